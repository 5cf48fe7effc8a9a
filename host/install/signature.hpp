// Ed25519 signatures over artifacts (OpenSSL, install/ed25519.hpp), checked against a directory
// of trusted keys.
//
// The trusted keys are loaded once (trusted_keys.hpp: `*.pem` and `*.pub` PEM Ed25519 public
// keys, e.g. from `lucidctl key generate` or `openssl pkey -in signer.key -pubout`), not per
// install. A signature text is either form of install/signed_statement.hpp:
//   lucid-sig-1  the key is picked by its key_id; its signature over the canonical statement is
//                checked; then the statement's sha256 against the artifact's bytes (here) and
//                its dist, version, component and platform against the manifest and this agent
//                (check_statement(), once the manifest is read);
//   bare         the base64 of the Ed25519 signature of the artifact's bytes, tried with every
//                trusted key; accepted only while `accept_bare_signatures`
//                (LUCID_ACCEPT_BARE_SIGNATURES, default yes; deprecated).
//
// Policy (contract §4.1, §8.2): with no trusted keys configured, signatures are not checked unless
// the policy requires them (then every install fails, loudly). With keys configured, a signature
// that is present must verify against one of them; an unsigned artifact is accepted only when the
// policy does not require signatures. A key directory that is configured but yields no usable key
// refuses every signed artifact and, with the policy `required`, every artifact (the agent refuses
// to start that way; this guards a key set that reached an install anyway).
//
// A revoked key (SignaturePolicy::revoked) is refused by name before its signature is tried; a
// version floor is checked after check_statement(), from the verified Statement.
//
// Thread: any. Errors: returned (the install result's text), never thrown.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "common/expected.hpp"
#include "install/plugin_manifest.hpp"
#include "install/signed_statement.hpp"
#include "install/trusted_keys.hpp"

namespace lucid::host::install {

struct SignaturePolicy {
    std::shared_ptr<const TrustedKeySet> keys;  // null or unconfigured: no trusted keys
    bool require_signature = false;
    bool accept_bare_signatures = true;  // LUCID_ACCEPT_BARE_SIGNATURES
    // The platform tag a lucid-sig-1 statement must name: this agent's build (the tag it takes
    // desired-state artifacts by, its status' build_platform).
    std::string platform = LUCID_BUILD_PLATFORM;
    // Revoked keys (contract §8.14): the keys directory's `revoked/` and the trust state's signed
    // lists, read for each install (ManagerSettings::with_current_policy). A signature by one is
    // refused by name. `revocations_error`: the trust state could not be read, so whether a key
    // is revoked is unknown, and every signature is refused with it (never "none revoked").
    RevokedKeys revoked{};
    std::string revocations_error{};
};

// What the check found, when the artifact passed.
struct SignatureCheck {
    enum class Form { unchecked, bare, statement };
    Form form = Form::unchecked;  // unchecked: unsigned (allowed) or no trusted keys configured
    std::string key_id;           // the key that verified it
    std::string key_file;         // its file in the trusted keys directory
    std::optional<Statement> statement;  // lucid-sig-1: verified, for check_statement()
};

// Checks `signature_text` (either form; nullopt or empty: unsigned) of the artifact whose bytes
// have the SHA-256 `sha256` (lowercase hex) and are in `artifact` (read only for a bare
// signature). Errors (contract §8.11):
//   signature required but no trusted keys are configured
//   signature cannot be checked: trusted_keys_dir ...: no usable Ed25519 public key (...)
//   signature required: the artifact is unsigned
//   signature invalid: not a lucid-sig-1 statement: <reason>
//   signature cannot be checked: <revocations_error>
//   signature invalid: unknown key_id <id>: not among the trusted keys (<id> (<file>), ...)
//   signature invalid: key <id> (<file>) is revoked (<why>)
//   signature invalid: the statement's signature does not verify with key <id> (<file>)
//   signature statement mismatch: sha256 <statement's>, artifact <actual>
//   signature invalid: bare signature refused (LUCID_ACCEPT_BARE_SIGNATURES=no): sign it with
//     lucidctl sign (lucid-sig-1)
//   signature invalid: expected the base64 of a 64-byte Ed25519 signature
//   signature invalid: no trusted key verifies this artifact
Expected<SignatureCheck> check_signature(const std::filesystem::path& artifact,
                                         const std::string& sha256,
                                         const std::optional<std::string>& signature_text,
                                         const SignaturePolicy& policy);

// The verified statement's claims against the artifact's manifest and this agent's platform:
//   signature statement mismatch: dist <statement's>, artifact <manifest's, normalized>
//   signature statement mismatch: version <statement's>, artifact <manifest's>
//   signature statement mismatch: component <statement's>, artifact <manifest's>
//   signature statement mismatch: platform <statement's>, agent <policy.platform>
Status check_statement(const Statement& statement, const PluginManifest& manifest,
                       const std::string& platform);

}  // namespace lucid::host::install
