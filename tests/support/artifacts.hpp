// Bytes of test artifacts and what installs need from them: file I/O, sha256, base64, file
// URLs, and an Ed25519 signing key generated at test time (OpenSSL), whose public half is
// written as PEM into a trusted-keys directory. Errors: std::runtime_error.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include <rapidjson/document.h>

namespace lucid::test {

std::string read_bytes(const std::filesystem::path& file);
void write_bytes(const std::filesystem::path& file, const std::string& bytes);
// A JSON file (the registry); throws when it is not JSON.
rapidjson::Document read_json(const std::filesystem::path& file);

std::string sha256_hex(const std::string& bytes);
std::string base64(const std::string& bytes);
std::string file_url(const std::filesystem::path& file);  // file:// and the absolute path
// `s` as a JSON string literal, quotes included.
std::string json_string(const std::string& s);

class SigningKey {
  public:
    SigningKey();  // a fresh Ed25519 key pair; throws std::runtime_error
    ~SigningKey();
    SigningKey(const SigningKey&) = delete;
    SigningKey& operator=(const SigningKey&) = delete;

    // Writes the public key as `<dir>/<name>.pem` (creating dir).
    void write_public_pem(const std::filesystem::path& dir, const std::string& name) const;
    // The base64 of the 64-byte Ed25519 signature over `bytes`.
    std::string sign_base64(const std::string& bytes) const;

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace lucid::test
