// Checksums, Ed25519 signatures against a trusted-keys directory, and file:// downloads.
#include <doctest/doctest.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include <cstdio>
#include <fstream>

#include "install/base64.hpp"
#include "install/digest.hpp"
#include "install/download.hpp"
#include "install/signature.hpp"
#include "install/trusted_keys.hpp"
#include "status_text.hpp"
#include "temp_dir.hpp"

using lucid::test::status_text;
using namespace lucid::host::install;
namespace fs = std::filesystem;

namespace {

void write(const fs::path& path, const std::string& content) {
    std::ofstream(path, std::ios::binary) << content;
}

// A fresh Ed25519 key pair; the public half written as PEM into `dir/name.pem`.
struct Signer {
    Signer(const fs::path& keys_dir, const std::string& name) {
        EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, nullptr);
        REQUIRE(EVP_PKEY_keygen_init(ctx) == 1);
        REQUIRE(EVP_PKEY_keygen(ctx, &key) == 1);
        EVP_PKEY_CTX_free(ctx);
        fs::create_directories(keys_dir);
        FILE* f = std::fopen((keys_dir / (name + ".pem")).c_str(), "w");
        REQUIRE(f);
        PEM_write_PUBKEY(f, key);
        std::fclose(f);
    }
    ~Signer() { EVP_PKEY_free(key); }
    std::string sign(const std::string& message) const {
        EVP_MD_CTX* ctx = EVP_MD_CTX_new();
        EVP_DigestSignInit(ctx, nullptr, nullptr, nullptr, key);
        unsigned char sig[64];
        std::size_t len = sizeof sig;
        EVP_DigestSign(ctx, sig, &len, reinterpret_cast<const unsigned char*>(message.data()),
                       message.size());
        EVP_MD_CTX_free(ctx);
        return base64_encode(std::string(reinterpret_cast<char*>(sig), len));
    }
    EVP_PKEY* key = nullptr;
};

SignaturePolicy policy_of(const fs::path& keys_dir, bool required) {
    SignaturePolicy policy;
    policy.keys = std::make_shared<TrustedKeySet>(load_trusted_keys(keys_dir));
    policy.require_signature = required;
    return policy;
}

}  // namespace

TEST_CASE("hashes files and buffers with SHA-256") {
    lucid::test::TempDir dir;
    write(dir / "a", "abc");
    const std::string expected = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    CHECK(sha256_hex("abc") == expected);
    CHECK(sha256_file(dir / "a") == expected);
    CHECK(is_sha256_hex(expected));
    CHECK_FALSE(is_sha256_hex(expected.substr(1)));
    CHECK_FALSE(is_sha256_hex(std::string(64, 'g')));
    CHECK_THROWS_AS(sha256_file(dir / "missing"), std::system_error);
}

TEST_CASE("accepts a signature from a trusted key and refuses a tampered artifact") {
    lucid::test::TempDir dir;
    Signer signer(dir / "keys", "release");
    write(dir / "a.so", "artifact bytes");
    const SignaturePolicy policy = policy_of(dir / "keys", true);
    CHECK(status_text(check_signature(dir / "a.so", sha256_file(dir / "a.so"),
                                      signer.sign("artifact bytes"), policy))
              .empty());
    CHECK(status_text(check_signature(dir / "a.so", sha256_file(dir / "a.so"),
                                      signer.sign("other bytes"), policy)) ==
          "signature invalid: no trusted key verifies this artifact");
}

TEST_CASE("refuses a signature from a key that is not trusted") {
    lucid::test::TempDir dir;
    Signer trusted(dir / "keys", "trusted");
    Signer stranger(dir / "elsewhere", "stranger");
    write(dir / "a.so", "artifact bytes");
    CHECK(status_text(check_signature(dir / "a.so", sha256_file(dir / "a.so"),
                                      stranger.sign("artifact bytes"),
                                      policy_of(dir / "keys", false))) ==
          "signature invalid: no trusted key verifies this artifact");
}

TEST_CASE("applies the signature policy to unsigned artifacts and malformed signatures") {
    lucid::test::TempDir dir;
    write(dir / "a.so", "artifact bytes");
    CHECK(status_text(check_signature(dir / "a.so", sha256_file(dir / "a.so"), std::nullopt, {}))
              .empty());
    CHECK(status_text(check_signature(dir / "a.so", sha256_file(dir / "a.so"), std::nullopt,
                                      policy_of("", true))) ==
          "signature required but no trusted keys are configured");
    Signer signer(dir / "keys", "release");
    CHECK(status_text(check_signature(dir / "a.so", sha256_file(dir / "a.so"), std::nullopt,
                                      policy_of(dir / "keys", false)))
              .empty());
    CHECK(status_text(check_signature(dir / "a.so", sha256_file(dir / "a.so"), std::nullopt,
                                      policy_of(dir / "keys", true))) ==
          "signature required: the artifact is unsigned");
    CHECK(status_text(check_signature(dir / "a.so", sha256_file(dir / "a.so"),
                                      std::string("bm90IGEgc2lnbmF0dXJl"),
                                      policy_of(dir / "keys", true))) ==
          "signature invalid: expected the base64 of a 64-byte Ed25519 signature");
}

TEST_CASE("downloads a file URL and reports progress") {
    lucid::test::TempDir dir;
    write(dir / "src.so", std::string(100000, 'x'));
    std::uint64_t last = 0;
    download_to_file("file://" + (dir / "src.so").string(), dir / "out.so", {},
                     [&](std::uint64_t bytes, std::uint64_t) { last = bytes; });
    CHECK(sha256_file(dir / "out.so") == sha256_file(dir / "src.so"));
    CHECK(last == 100000);
}

TEST_CASE("a download above the size cap fails and leaves no partial file") {
    lucid::test::TempDir dir;
    write(dir / "src.so", std::string(100000, 'x'));
    DownloadLimits limits;
    limits.max_bytes = 1000;
    CHECK_THROWS_WITH_AS(
        download_to_file("file://" + (dir / "src.so").string(), dir / "out.so", limits),
        doctest::Contains("exceeds the size cap of 1000 bytes"), DownloadError);
    CHECK_FALSE(fs::exists(dir / "out.so"));
}

TEST_CASE("a missing source fails clearly and never overwrites an existing destination") {
    lucid::test::TempDir dir;
    CHECK_THROWS_WITH_AS(
        download_to_file("file://" + (dir / "nope.so").string(), dir / "out.so", {}),
        doctest::Contains("download failed"), DownloadError);
    write(dir / "existing.so", "keep me");
    write(dir / "src.so", "new");
    CHECK_THROWS_AS(
        download_to_file("file://" + (dir / "src.so").string(), dir / "existing.so", {}),
        DownloadError);
    std::ifstream in(dir / "existing.so");
    std::string content((std::istreambuf_iterator<char>(in)), {});
    CHECK(content == "keep me");
}
