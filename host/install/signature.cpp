#include "install/signature.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>

#include <cstdio>
#include <memory>
#include <vector>

#include "install/base64.hpp"
#include "lucid/registry/atomic_file.hpp"

namespace lucid::host::install {
namespace fs = std::filesystem;
namespace {

using PKey = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;

std::vector<PKey> load_trusted_keys(const fs::path& dir) {
    std::vector<PKey> keys;
    std::error_code ec;
    if (dir.empty() || !fs::is_directory(dir, ec)) return keys;
    for (const auto& file : fs::directory_iterator(dir, ec)) {
        if (file.path().extension() != ".pem") continue;
        FILE* f = std::fopen(file.path().c_str(), "r");
        if (!f) continue;
        EVP_PKEY* key = PEM_read_PUBKEY(f, nullptr, nullptr, nullptr);
        std::fclose(f);
        // Only Ed25519 keys count; anything else in the directory is not a trusted signer.
        if (key && EVP_PKEY_get_id(key) == EVP_PKEY_ED25519) {
            keys.emplace_back(key, &EVP_PKEY_free);
        } else if (key) {
            EVP_PKEY_free(key);
        }
    }
    return keys;
}

bool verifies(EVP_PKEY* key, const std::string& signature, const std::string& message) {
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
    if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key) != 1) return false;
    return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                            signature.size(),
                            reinterpret_cast<const unsigned char*>(message.data()),
                            message.size()) == 1;
}

}  // namespace

std::optional<std::string> check_signature(const fs::path& artifact,
                                           const std::optional<std::string>& signature_base64,
                                           const SignaturePolicy& policy) {
    const auto keys = load_trusted_keys(policy.trusted_keys_dir);
    if (keys.empty()) {
        if (policy.require_signature) {
            return "signature required but no trusted keys are configured";
        }
        return std::nullopt;
    }
    if (!signature_base64 || signature_base64->empty()) {
        if (policy.require_signature) return "signature required: the artifact is unsigned";
        return std::nullopt;
    }
    const auto signature = base64_decode(*signature_base64);
    if (!signature || signature->size() != 64) {
        return "signature invalid: expected the base64 of a 64-byte Ed25519 signature";
    }
    const std::string message = registry::read_file(artifact);
    for (const auto& key : keys) {
        if (verifies(key.get(), *signature, message)) return std::nullopt;
    }
    return "signature invalid: no trusted key verifies this artifact";
}

}  // namespace lucid::host::install
