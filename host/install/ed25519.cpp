#include "install/ed25519.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>

#include <stdexcept>

#include "install/digest.hpp"

namespace lucid::host::install {
namespace {

using Bio = std::unique_ptr<BIO, decltype(&BIO_free)>;
using MdCtx = std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)>;

std::string bio_text(BIO* bio) {
    char* data = nullptr;
    const long len = BIO_get_mem_data(bio, &data);
    return len > 0 ? std::string(data, static_cast<std::size_t>(len)) : std::string();
}

// Null with `reason` unless `key` is Ed25519.
KeyPtr only_ed25519(EVP_PKEY* key, std::string& reason) {
    KeyPtr owned(key, &EVP_PKEY_free);
    if (EVP_PKEY_get_id(key) != EVP_PKEY_ED25519) {
        const char* type = EVP_PKEY_get0_type_name(key);
        reason = std::string(type ? type : "unknown") + " key, not Ed25519";
        return nullptr;
    }
    return owned;
}

}  // namespace

std::string key_id(EVP_PKEY* key) {
    unsigned char raw[64];
    std::size_t len = sizeof raw;
    if (!key || EVP_PKEY_get_raw_public_key(key, raw, &len) != 1) return "";
    return sha256_hex(std::string_view(reinterpret_cast<char*>(raw), len))
        .substr(0, kKeyIdHexDigits);
}

bool is_key_id(std::string_view text) {
    if (text.size() != kKeyIdHexDigits) return false;
    for (const char c : text) {
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    }
    return true;
}

bool ed25519_verify(EVP_PKEY* key, std::string_view signature, std::string_view message) {
    MdCtx ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
    // Ed25519 takes no digest (nullptr): it hashes the whole message itself ("-rawin").
    if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key) != 1) return false;
    return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                            signature.size(),
                            reinterpret_cast<const unsigned char*>(message.data()),
                            message.size()) == 1;
}

std::string ed25519_sign(EVP_PKEY* key, std::string_view message) {
    MdCtx ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
    std::string signature(kEd25519SignatureBytes, '\0');
    std::size_t len = signature.size();
    if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key) != 1 ||
        EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &len,
                       reinterpret_cast<const unsigned char*>(message.data()),
                       message.size()) != 1 ||
        len != kEd25519SignatureBytes) {
        throw std::runtime_error("OpenSSL could not sign with the Ed25519 key");
    }
    return signature;
}

KeyPtr generate_ed25519() {
    EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
    if (!key) throw std::runtime_error("OpenSSL could not generate an Ed25519 key");
    return KeyPtr(key, &EVP_PKEY_free);
}

std::string private_key_pem(EVP_PKEY* key) {
    Bio bio(BIO_new(BIO_s_mem()), &BIO_free);
    if (!bio ||
        PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1)
        throw std::runtime_error("OpenSSL could not write the private key");
    return bio_text(bio.get());
}

std::string public_key_pem(EVP_PKEY* key) {
    Bio bio(BIO_new(BIO_s_mem()), &BIO_free);
    if (!bio || PEM_write_bio_PUBKEY(bio.get(), key) != 1)
        throw std::runtime_error("OpenSSL could not write the public key");
    return bio_text(bio.get());
}

KeyPtr parse_public_key_pem(const std::string& text, std::string& reason) {
    if (text.rfind("ssh-", 0) == 0) {
        reason = "an OpenSSH public key, not PEM (convert it: ssh-keygen -e -m PKCS8 -f FILE)";
        return nullptr;
    }
    if (text.find("PRIVATE KEY-----") != std::string::npos) {
        reason = "a private key: only the public half belongs here (openssl pkey -pubout)";
        return nullptr;
    }
    Bio bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())), &BIO_free);
    EVP_PKEY* key = bio ? PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr) : nullptr;
    if (!key) {
        reason = "not a PEM public key";
        return nullptr;
    }
    return only_ed25519(key, reason);
}

KeyPtr parse_private_key_pem(const std::string& text, std::string& reason) {
    if (text.find("ENCRYPTED PRIVATE KEY-----") != std::string::npos) {
        reason = "an encrypted private key (decrypt it: openssl pkey -in K -out K.plain)";
        return nullptr;
    }
    Bio bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())), &BIO_free);
    // A null password callback with an empty password: never a prompt on the terminal.
    char empty[] = "";
    EVP_PKEY* key = bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, empty) : nullptr;
    if (!key) {
        reason = "not a PEM private key";
        return nullptr;
    }
    return only_ed25519(key, reason);
}

}  // namespace lucid::host::install
