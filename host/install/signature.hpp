// Ed25519 signatures over artifacts (OpenSSL), checked against a directory of trusted keys.
//
// The trusted keys are loaded once (trusted_keys.hpp: `*.pem` and `*.pub` PEM Ed25519 public
// keys, e.g. from `openssl pkey -in signer.key -pubout`), not per install. A signature is the
// base64 of the 64-byte Ed25519 signature of the artifact's bytes (`openssl pkeyutl -sign -rawin
// -inkey signer.key -in x.so`).
//
// Policy (contract §4.1, §8.2): with no trusted keys configured, signatures are not checked unless
// the policy requires them (then every install fails, loudly). With keys configured, a signature
// that is present must verify against one of them; an unsigned artifact is accepted only when the
// policy does not require signatures. A key directory that is configured but yields no usable key
// refuses every signed artifact and, with the policy `required`, every artifact (the agent refuses
// to start that way; this guards a key set that reached an install anyway).
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "common/expected.hpp"
#include "install/trusted_keys.hpp"

namespace lucid::host::install {

struct SignaturePolicy {
    std::shared_ptr<const TrustedKeySet> keys;  // null or unconfigured: no trusted keys
    bool require_signature = false;
};

// Returns nullopt when the artifact passes the policy, else the error for the install result.
Status check_signature(const std::filesystem::path& artifact,
                       const std::optional<std::string>& signature_base64,
                       const SignaturePolicy& policy);

}  // namespace lucid::host::install
