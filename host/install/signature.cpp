#include "install/signature.hpp"

#include <openssl/evp.h>

#include <memory>

#include "common/atomic_file.hpp"
#include "install/base64.hpp"

namespace lucid::host::install {
namespace fs = std::filesystem;
namespace {

bool verifies(EVP_PKEY* key, const std::string& signature, const std::string& message) {
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
    if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key) != 1) return false;
    return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                            signature.size(),
                            reinterpret_cast<const unsigned char*>(message.data()),
                            message.size()) == 1;
}

}  // namespace

Status check_signature(const fs::path& artifact, const std::optional<std::string>& signature_base64,
                       const SignaturePolicy& policy) {
    const bool has_signature = signature_base64 && !signature_base64->empty();
    if (!policy.keys || !policy.keys->configured()) {
        if (policy.require_signature) {
            return Error{Errc::refused, "signature required but no trusted keys are configured"};
        }
        return done();
    }
    if (!policy.keys->usable() && (has_signature || policy.require_signature)) {
        // Never treat a present signature as checked when nothing could check it.
        return Error{Errc::refused,
                     "signature cannot be checked: " + no_usable_key_error(*policy.keys)};
    }
    if (!has_signature) {
        if (policy.require_signature)
            return Error{Errc::refused, "signature required: the artifact is unsigned"};
        return done();
    }
    const auto signature = base64_decode(*signature_base64);
    if (!signature || signature->size() != 64) {
        return Error{Errc::refused,
                     "signature invalid: expected the base64 of a 64-byte Ed25519 signature"};
    }
    const std::string message = read_file(artifact);
    for (const auto& trusted : policy.keys->keys) {
        if (verifies(trusted.key.get(), *signature, message)) return done();
    }
    return Error{Errc::refused, "signature invalid: no trusted key verifies this artifact"};
}

}  // namespace lucid::host::install
