// Ed25519 keys and signatures (OpenSSL EVP): the one place the agent and lucidctl make, load,
// name, sign with and verify with a key.
//
// A key's id (contract §8.11) is the first 16 hex digits (lowercase) of the SHA-256 of its raw
// 32-byte public key:
//   openssl pkey -pubin -in k.pem -outform DER | tail -c 32 | sha256sum | cut -c1-16
// It is the same for the private key and its public half, so lucidctl names the key that
// signs and the agent picks the key that verifies by it. A trust store that revokes keys or
// pins them to dists keys them by this id too.
//
// Thread: every function is safe from any thread (EVP_PKEY objects are only read once made).
// Errors: the parse functions set `reason` and return null; sign and generate throw
// std::runtime_error (OpenSSL failing to sign with a key it loaded is not an input error).
#pragma once

#include <openssl/types.h>

#include <memory>
#include <string>
#include <string_view>

namespace lucid::host::install {

inline constexpr std::size_t kEd25519SignatureBytes = 64;
inline constexpr std::size_t kKeyIdHexDigits = 16;

using KeyPtr = std::shared_ptr<EVP_PKEY>;

// "<16 lowercase hex>" for an Ed25519 key (private or public); "" when it has no raw public key.
std::string key_id(EVP_PKEY* key);

// True for exactly 16 lowercase hex digits.
bool is_key_id(std::string_view text);

// True when `signature` (64 raw bytes) is `key`'s Ed25519 signature of `message`.
bool ed25519_verify(EVP_PKEY* key, std::string_view signature, std::string_view message);

// The 64-byte Ed25519 signature of `message` with the private `key`.
std::string ed25519_sign(EVP_PKEY* key, std::string_view message);

// A fresh Ed25519 key pair.
KeyPtr generate_ed25519();

// PEM texts: "-----BEGIN PRIVATE KEY-----" (PKCS#8, unencrypted, what `openssl genpkey
// -algorithm ed25519` writes) and "-----BEGIN PUBLIC KEY-----" (`openssl pkey -pubout`).
std::string private_key_pem(EVP_PKEY* key);
std::string public_key_pem(EVP_PKEY* key);

// The Ed25519 public key in PEM `text`, or null with the reason ("not a PEM public key",
// "RSA key, not Ed25519", "a private key: only the public half belongs here ...").
KeyPtr parse_public_key_pem(const std::string& text, std::string& reason);

// The Ed25519 private key in PEM `text` (unencrypted PKCS#8), or null with the reason.
KeyPtr parse_private_key_pem(const std::string& text, std::string& reason);

}  // namespace lucid::host::install
