#include "install/signature.hpp"

#include "common/atomic_file.hpp"
#include "install/base64.hpp"
#include "install/ed25519.hpp"
#include "lucid/registry/dist_name.hpp"

namespace lucid::host::install {
namespace fs = std::filesystem;
namespace {

Error refused(std::string message) { return Error{Errc::refused, std::move(message)}; }

Error mismatch(const std::string& field, const std::string& claimed, const std::string& whose,
               const std::string& actual) {
    return refused("signature statement mismatch: " + field + " " + claimed + ", " + whose + " " +
                   actual);
}

Error revoked_key(const TrustedKey& key, const std::string& why) {
    return refused("signature invalid: key " + key.key_id + " (" + key.file + ") is revoked (" +
                   why + ")");
}

Expected<SignatureCheck> check_statement_signature(const std::string& sha256,
                                                   const std::string& text,
                                                   const SignaturePolicy& policy) {
    const TrustedKeySet& keys = *policy.keys;
    auto parsed = parse_signed_statement(text);
    if (!parsed) return parsed.error();
    const SignedStatement& s = parsed.value();
    const TrustedKey* key = keys.find(s.key_id);
    if (!key) {
        return refused("signature invalid: unknown key_id " + s.key_id +
                       ": not among the trusted keys (" + keys.key_ids() + ")");
    }
    if (const auto it = policy.revoked.find(key->key_id); it != policy.revoked.end()) {
        return revoked_key(*key, it->second);
    }
    // The signature first: nothing a statement says counts before its signer is known.
    const auto raw = base64_decode(s.signature);  // the parser checked it is 64 bytes
    if (!raw || !ed25519_verify(key->key.get(), *raw, canonical_statement(s.statement))) {
        return refused("signature invalid: the statement's signature does not verify with key " +
                       key->key_id + " (" + key->file + ")");
    }
    if (s.statement.sha256 != sha256) {
        return mismatch("sha256", s.statement.sha256, "artifact", sha256);
    }
    SignatureCheck out;
    out.form = SignatureCheck::Form::statement;
    out.key_id = key->key_id;
    out.key_file = key->file;
    out.statement = s.statement;
    return out;
}

Expected<SignatureCheck> check_bare_signature(const fs::path& artifact, const std::string& text,
                                              const SignaturePolicy& policy) {
    if (!policy.accept_bare_signatures) {
        return refused(
            "signature invalid: bare signature refused (LUCID_ACCEPT_BARE_SIGNATURES=no): sign "
            "it with lucidctl sign (lucid-sig-1)");
    }
    const auto signature = base64_decode(text);
    if (!signature || signature->size() != kEd25519SignatureBytes) {
        return refused("signature invalid: expected the base64 of a 64-byte Ed25519 signature");
    }
    const std::string message = read_file(artifact);
    for (const auto& trusted : policy.keys->keys) {
        if (ed25519_verify(trusted.key.get(), *signature, message)) {
            if (const auto it = policy.revoked.find(trusted.key_id); it != policy.revoked.end()) {
                return revoked_key(trusted, it->second);
            }
            SignatureCheck out;
            out.form = SignatureCheck::Form::bare;
            out.key_id = trusted.key_id;
            out.key_file = trusted.file;
            return out;
        }
    }
    return refused("signature invalid: no trusted key verifies this artifact");
}

}  // namespace

Expected<SignatureCheck> check_signature(const fs::path& artifact, const std::string& sha256,
                                         const std::optional<std::string>& signature_text,
                                         const SignaturePolicy& policy) {
    const bool has_signature = signature_text && !signature_text->empty();
    if (!policy.keys || !policy.keys->configured()) {
        if (policy.require_signature) {
            return refused("signature required but no trusted keys are configured");
        }
        return SignatureCheck{};
    }
    if (!policy.keys->usable() && (has_signature || policy.require_signature)) {
        // Never treat a present signature as checked when nothing could check it.
        return refused("signature cannot be checked: " + no_usable_key_error(*policy.keys));
    }
    if (!has_signature) {
        if (policy.require_signature) {
            return refused("signature required: the artifact is unsigned");
        }
        return SignatureCheck{};
    }
    if (!policy.revocations_error.empty()) {
        return refused("signature cannot be checked: " + policy.revocations_error);
    }
    if (is_statement_form(*signature_text)) {
        return check_statement_signature(sha256, *signature_text, policy);
    }
    return check_bare_signature(artifact, *signature_text, policy);
}

Status check_statement(const Statement& statement, const PluginManifest& manifest,
                       const std::string& platform) {
    // Dist names compare as the registry does (PEP 503): "Lucid_Agent.CPU" is lucid-agent-cpu.
    const std::string dist = registry::normalize_dist_name(manifest.dist_name);
    if (registry::normalize_dist_name(statement.dist) != dist) {
        return mismatch("dist", statement.dist, "artifact", dist);
    }
    if (statement.version != manifest.version) {
        return mismatch("version", statement.version, "artifact", manifest.version);
    }
    if (statement.component != manifest.component_id) {
        return mismatch("component", statement.component, "artifact", manifest.component_id);
    }
    if (statement.platform != platform) {
        return mismatch("platform", statement.platform, "agent", platform);
    }
    return done();
}

}  // namespace lucid::host::install
