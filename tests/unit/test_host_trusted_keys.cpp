// The trusted-keys directory (issue 13 item 6, issue 14 Low): every file is used or skipped with
// its reason; a configured directory without a usable key never turns signature checking off.
#include <doctest/doctest.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include <cstdio>
#include <fstream>

#include "install/base64.hpp"
#include "install/digest.hpp"
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

EVP_PKEY* generate(const char* type) {
    EVP_PKEY* key = std::string(type) == "EC" ? EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256")
                                              : EVP_PKEY_Q_keygen(nullptr, nullptr, type);
    REQUIRE(key);
    return key;
}

void write_public(EVP_PKEY* key, const fs::path& path) {
    FILE* f = std::fopen(path.c_str(), "w");
    REQUIRE(f);
    PEM_write_PUBKEY(f, key);
    std::fclose(f);
}

void write_private(EVP_PKEY* key, const fs::path& path) {
    FILE* f = std::fopen(path.c_str(), "w");
    REQUIRE(f);
    PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr);
    std::fclose(f);
}

std::string sign(EVP_PKEY* key, const std::string& message) {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    EVP_DigestSignInit(ctx, nullptr, nullptr, nullptr, key);
    unsigned char sig[64];
    std::size_t len = sizeof sig;
    EVP_DigestSign(ctx, sig, &len, reinterpret_cast<const unsigned char*>(message.data()),
                   message.size());
    EVP_MD_CTX_free(ctx);
    return base64_encode(std::string(reinterpret_cast<char*>(sig), len));
}

}  // namespace

TEST_CASE("loads PEM Ed25519 keys named *.pem and *.pub and says why every other file is skipped") {
    lucid::test::TempDir dir;
    const fs::path keys = dir / "keys";
    fs::create_directories(keys);
    EVP_PKEY* release = generate("ED25519");
    EVP_PKEY* backup = generate("ED25519");
    EVP_PKEY* ec = generate("EC");
    write_public(release, keys / "release.pem");
    write_public(backup, keys / "backup.pub");
    write_public(ec, keys / "ec.pem");
    write_private(release, keys / "oops.pem");
    write(keys / "ssh.pub", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA user@host\n");
    write(keys / "notes.txt", "not a key");
    write(keys / ".hidden.pem", "ignored");

    const auto set = load_trusted_keys(keys);
    REQUIRE(set.keys.size() == 2);
    CHECK(set.keys[0].file == "backup.pub");
    CHECK(set.keys[1].file == "release.pem");
    CHECK(set.keys[1].key_id.size() == 16);
    CHECK(set.keys[1].key_id.find_first_not_of("0123456789abcdef") == std::string::npos);
    CHECK(set.keys[0].key_id != set.keys[1].key_id);
    CHECK(set.problem.empty());
    REQUIRE(set.skipped.size() == 4);
    CHECK(set.skipped[0] == "ec.pem: EC key, not Ed25519");
    CHECK(set.skipped[1] == "notes.txt: not a *.pem or *.pub file");
    CHECK(set.skipped[2].rfind("oops.pem: a private key", 0) == 0);
    CHECK(set.skipped[3].rfind("ssh.pub: an OpenSSH public key, not PEM", 0) == 0);
    const auto text = describe_trusted_keys(set);
    CHECK(text.find("loaded  release.pem ed25519 key_id " + set.keys[1].key_id) !=
          std::string::npos);
    CHECK(text.find("skipped ec.pem: EC key, not Ed25519") != std::string::npos);
    EVP_PKEY_free(release);
    EVP_PKEY_free(backup);
    EVP_PKEY_free(ec);
}

TEST_CASE("a configured key directory without a usable key names the path and the reason") {
    lucid::test::TempDir dir;
    auto missing = load_trusted_keys(dir / "trusted-keyz");
    CHECK_FALSE(missing.usable());
    CHECK(no_usable_key_error(missing) == "trusted_keys_dir " + (dir / "trusted-keyz").string() +
                                              ": no usable Ed25519 public key (the directory "
                                              "does not exist)");
    fs::create_directories(dir / "empty");
    CHECK(load_trusted_keys(dir / "empty").problem == "no *.pem or *.pub file in it");
    write(dir / "file", "x");
    CHECK(load_trusted_keys(dir / "file").problem == "not a directory");
    fs::create_directories(dir / "bad");
    write(dir / "bad" / "a.pem", "garbage");
    CHECK(load_trusted_keys(dir / "bad").problem == "a.pem: not a PEM public key");
    CHECK_FALSE(load_trusted_keys("").configured());
}

TEST_CASE("with keys configured but none usable a present signature is never ignored") {
    lucid::test::TempDir dir;
    fs::create_directories(dir / "keys");
    write(dir / "keys" / "a.pem", "garbage");
    write(dir / "a.so", "artifact bytes");
    EVP_PKEY* key = generate("ED25519");
    auto unusable = std::make_shared<TrustedKeySet>(load_trusted_keys(dir / "keys"));
    const std::string expected = "signature cannot be checked: trusted_keys_dir " +
                                 (dir / "keys").string() +
                                 ": no usable Ed25519 public key (a.pem: not a PEM public key)";
    // Optional policy: a garbage and a real signature are refused, not silently accepted.
    CHECK(status_text(check_signature(dir / "a.so", sha256_file(dir / "a.so"),
                                      std::string("garbage"), {unusable, false})) == expected);
    CHECK(status_text(check_signature(dir / "a.so", sha256_file(dir / "a.so"),
                                      sign(key, "artifact bytes"), {unusable, false})) == expected);
    CHECK(status_text(check_signature(dir / "a.so", sha256_file(dir / "a.so"), std::nullopt,
                                      {unusable, false}))
              .empty());
    CHECK(status_text(check_signature(dir / "a.so", sha256_file(dir / "a.so"), std::nullopt,
                                      {unusable, true})) == expected);
    EVP_PKEY_free(key);
}

TEST_CASE("a keys directory or key file others may write is never trusted") {
    lucid::test::TempDir dir;
    fs::create_directories(dir / "keys");
    EVP_PKEY* key = generate("ED25519");
    write_public(key, dir / "keys" / "ok.pem");
    write_public(key, dir / "keys" / "open.pem");
    fs::permissions(dir / "keys" / "open.pem", fs::perms::others_write, fs::perm_options::add);
    const auto set = load_trusted_keys(dir / "keys");
    CHECK(set.keys.size() == 1);
    REQUIRE(set.skipped.size() == 1);
    CHECK(set.skipped[0] ==
          "open.pem: writable by others (chmod o-w): anyone could replace the key");

    fs::permissions(dir / "keys", fs::perms::others_write, fs::perm_options::add);
    const auto open_dir = load_trusted_keys(dir / "keys");
    CHECK_FALSE(open_dir.usable());
    CHECK(open_dir.problem == "the directory is writable by others (chmod o-w " +
                                  (dir / "keys").string() + "): anyone could add a key");
    EVP_PKEY_free(key);
}
