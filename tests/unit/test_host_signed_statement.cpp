// lucid-sig-1 (contract §8.11): key ids, the canonical statement, the signature text's parser,
// and the agent's check of either signature form against trusted keys and the artifact.
#include <doctest/doctest.h>

#include <openssl/evp.h>

#include <fstream>

#include "install/base64.hpp"
#include "install/digest.hpp"
#include "install/ed25519.hpp"
#include "install/signature.hpp"
#include "install/signed_statement.hpp"
#include "install/trusted_keys.hpp"
#include "status_text.hpp"
#include "temp_dir.hpp"

using lucid::test::status_text;
using namespace lucid::host::install;
namespace fs = std::filesystem;

namespace {

// RFC 8032 §7.1 test 1: a key whose id, and whose signature of the contract's worked example,
// anyone can recompute with openssl (contract §8.11).
constexpr const char* kExampleKeyPem =
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n"
    "-----END PRIVATE KEY-----\n";
constexpr const char* kExampleKeyId = "21fe31dfa154a261";
constexpr const char* kExampleCanonical =
    R"({"sha256":"5f2b8a1c3e9d47f60b1a2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6071",)"
    R"("dist":"lucid-agent-cpu","version":"1.2.0","component":"cpu","platform":"linux_x86_64",)"
    R"("signed_at":"2026-12-01T02:30:00.000Z"})";
constexpr const char* kExampleSignature =
    "blqRj9IxP7osDp+SWRO+gSYsHAjw0d+NX6awbTFEgjAb0beYdi6V73c0iOhBnug5ZU5LNPGdH4NjURvr3VPACA==";

void write(const fs::path& path, const std::string& content) {
    std::ofstream(path, std::ios::binary) << content;
}

KeyPtr example_key() {
    std::string reason;
    auto key = parse_private_key_pem(kExampleKeyPem, reason);
    REQUIRE_MESSAGE(key, reason);
    return key;
}

Statement example_statement() {
    return Statement{"5f2b8a1c3e9d47f60b1a2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6071",
                     "lucid-agent-cpu",
                     "1.2.0",
                     "cpu",
                     "linux_x86_64",
                     "2026-12-01T02:30:00.000Z"};
}

// A signer with its public key in `keys_dir/<name>.pem`.
struct Signer {
    Signer(const fs::path& keys_dir, const std::string& name, KeyPtr k = generate_ed25519())
        : key(std::move(k)) {
        fs::create_directories(keys_dir);
        write(keys_dir / (name + ".pem"), public_key_pem(key.get()));
    }
    // The lucid-sig-1 text of `statement`, signed with this key.
    std::string sign(const Statement& statement) const {
        return signature_text(
            {key_id(key.get()), statement,
             base64_encode(ed25519_sign(key.get(), canonical_statement(statement)))});
    }
    std::string sign_bytes(const std::string& bytes) const {
        return base64_encode(ed25519_sign(key.get(), bytes));
    }
    KeyPtr key;
};

SignaturePolicy policy_of(const fs::path& keys_dir, bool accept_bare = true) {
    SignaturePolicy p;
    p.keys = std::make_shared<TrustedKeySet>(load_trusted_keys(keys_dir));
    p.require_signature = true;
    p.accept_bare_signatures = accept_bare;
    return p;
}

// The statement lucidctl sign would make for `artifact`.
Statement statement_of(const fs::path& artifact) {
    Statement s = example_statement();
    s.sha256 = sha256_file(artifact);
    return s;
}

std::string check_text(const fs::path& artifact, const std::string& signature,
                       const SignaturePolicy& policy) {
    return status_text(check_signature(artifact, sha256_file(artifact), signature, policy));
}

lucid::host::PluginManifest example_manifest() {
    lucid::host::PluginManifest m;
    m.dist_name = "Lucid_Agent.CPU";
    m.version = "1.2.0";
    m.component_id = "cpu";
    return m;
}

}  // namespace

TEST_CASE("a key id is the first 16 hex digits of the SHA-256 of the raw public key") {
    const auto key = example_key();
    CHECK(key_id(key.get()) == kExampleKeyId);
    // The public half has the same id: what signs and what verifies are named alike.
    std::string reason;
    const auto pub = parse_public_key_pem(public_key_pem(key.get()), reason);
    REQUIRE(pub);
    CHECK(key_id(pub.get()) == kExampleKeyId);
    CHECK(is_key_id(kExampleKeyId));
    CHECK_FALSE(is_key_id("21FE31DFA154A261"));
    CHECK_FALSE(is_key_id("21fe31dfa154a26"));
    CHECK(key_id(generate_ed25519().get()) != kExampleKeyId);
}

TEST_CASE("the canonical statement is its six members in order, without whitespace") {
    CHECK(canonical_statement(example_statement()) == kExampleCanonical);
}

TEST_CASE("the contract's worked example signs to the documented signature") {
    // Ed25519 is deterministic: openssl pkeyutl -sign -rawin gives these very bytes.
    const auto key = example_key();
    CHECK(base64_encode(ed25519_sign(key.get(), kExampleCanonical)) == kExampleSignature);
    const std::string text =
        signature_text({kExampleKeyId, example_statement(), kExampleSignature});
    CHECK(text ==
          std::string(R"({"format":"lucid-sig-1","key_id":"21fe31dfa154a261","statement":)") +
              kExampleCanonical + R"(,"signature":")" + kExampleSignature + "\"}");
}

TEST_CASE("a signature text parses back to the same statement, whitespace or not") {
    const std::string text =
        signature_text({kExampleKeyId, example_statement(), kExampleSignature});
    CHECK(is_statement_form(text));
    CHECK(is_statement_form("  \n{"));
    CHECK_FALSE(is_statement_form(kExampleSignature));
    const auto parsed = parse_signed_statement(text);
    REQUIRE(parsed);
    CHECK(parsed.value().key_id == kExampleKeyId);
    CHECK(canonical_statement(parsed.value().statement) == kExampleCanonical);
    CHECK(parsed.value().signature == kExampleSignature);
    // Pretty-printed by another tool: the same statement, the same canonical bytes.
    const std::string spaced =
        "{\n  \"signature\": \"" + std::string(kExampleSignature) +
        "\",\n  \"statement\": {\"signed_at\": \"2026-12-01T02:30:00.000Z\", \"platform\": "
        "\"linux_x86_64\", \"component\": \"cpu\", \"version\": \"1.2.0\", \"dist\": "
        "\"lucid-agent-cpu\", \"sha256\": "
        "\"5f2b8a1c3e9d47f60b1a2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6071\"},\n  \"key_id\": "
        "\"21fe31dfa154a261\", \"format\": \"lucid-sig-1\"\n}\n";
    const auto reparsed = parse_signed_statement(spaced);
    REQUIRE(reparsed);
    CHECK(canonical_statement(reparsed.value().statement) == kExampleCanonical);
}

TEST_CASE("a malformed signature text is refused with the reason") {
    const std::string prefix = "signature invalid: not a lucid-sig-1 statement: ";
    auto error = [](const std::string& text) { return status_text(parse_signed_statement(text)); };
    const std::string good =
        signature_text({kExampleKeyId, example_statement(), kExampleSignature});
    auto replaced = [&](const std::string& from, const std::string& to) {
        std::string t = good;
        t.replace(t.find(from), from.size(), to);
        return t;
    };
    CHECK(error("{not json") ==
          prefix + "invalid JSON: Missing a name for object member. at offset 1");
    CHECK(error("[1]") == prefix + "not a JSON object");
    CHECK(error(replaced("lucid-sig-1", "lucid-sig-2")) ==
          prefix + "'format' is 'lucid-sig-2', not 'lucid-sig-1'");
    CHECK(error(replaced(kExampleKeyId, "21FE31DFA154A261")) ==
          prefix + "'key_id' must be 16 lowercase hex digits");
    CHECK(error(replaced(kExampleSignature, "bm90IGEgc2lnbmF0dXJl")) ==
          prefix + "'signature' is not the base64 of a 64-byte Ed25519 signature");
    CHECK(error(replaced(kExampleSignature, "***")) ==
          prefix + "'signature' is not the base64 of a 64-byte Ed25519 signature");
    CHECK(error(replaced("\"version\":\"1.2.0\",", "")) ==
          prefix + "'statement.version' is missing");
    CHECK(error(replaced("\"version\":\"1.2.0\"", "\"version\":120")) ==
          prefix + "'statement.version' must be a string");
    CHECK(error(replaced("\"version\":\"1.2.0\"", "\"version\":\"1.2.0\",\"channel\":\"x\"")) ==
          prefix + "'statement' has an unknown member 'channel'");
    CHECK(error(replaced("\"version\":\"1.2.0\"", R"("version":"1.2\"0")")) ==
          prefix +
              "'statement.version' must be 1 to 256 printable ASCII characters, no space, '\"' or "
              "'\\'");
    CHECK(error(replaced("5f2b8a1c", "5F2B8A1C")) ==
          prefix + "'statement.sha256' must be 64 lowercase hex digits");
    CHECK(error(replaced("2026-12-01T02:30:00.000Z", "yesterday")) ==
          prefix + "'statement.signed_at' must be a UTC timestamp like 2026-12-01T02:30:00.000Z");
    CHECK(error(replaced("{\"format\"", "{\"extra\":1,\"format\"")) ==
          prefix + "the object has an unknown member 'extra'");
    CHECK(error(replaced("{\"format\"", "{\"key_id\":\"0000000000000000\",\"format\"")) ==
          prefix + "the key 'key_id' appears twice");
    CHECK(error(good + std::string(kMaxSignatureTextBytes, ' ')) ==
          prefix + "longer than 4096 bytes");
}

TEST_CASE("a lucid-sig-1 signature verifies with the key its key_id names") {
    lucid::test::TempDir dir;
    Signer other(dir / "keys", "a-other");
    Signer signer(dir / "keys", "release");
    write(dir / "a.so", "artifact bytes");
    const auto checked =
        check_signature(dir / "a.so", sha256_file(dir / "a.so"),
                        signer.sign(statement_of(dir / "a.so")), policy_of(dir / "keys"));
    REQUIRE_MESSAGE(checked, status_text(checked));
    CHECK(checked.value().form == SignatureCheck::Form::statement);
    CHECK(checked.value().key_id == key_id(signer.key.get()));
    CHECK(checked.value().key_file == "release.pem");
    REQUIRE(checked.value().statement);
    CHECK(checked.value().statement->version == "1.2.0");
}

TEST_CASE("a tampered statement field, a wrong key and an unknown key id are refused") {
    lucid::test::TempDir dir;
    Signer signer(dir / "keys", "release");
    write(dir / "a.so", "artifact bytes");
    const auto policy = policy_of(dir / "keys");
    const std::string id = key_id(signer.key.get());
    const std::string good = signer.sign(statement_of(dir / "a.so"));
    REQUIRE(check_text(dir / "a.so", good, policy).empty());

    std::string tampered = good;
    tampered.replace(tampered.find("\"1.2.0\""), 7, "\"9.9.9\"");
    CHECK(check_text(dir / "a.so", tampered, policy) ==
          "signature invalid: the statement's signature does not verify with key " + id +
              " (release.pem)");

    // Signed by a key that is not trusted, but claiming the trusted key's id.
    Signer stranger(dir / "elsewhere", "stranger");
    auto forged = parse_signed_statement(stranger.sign(statement_of(dir / "a.so"))).value();
    forged.key_id = id;
    CHECK(check_text(dir / "a.so", signature_text(forged), policy) ==
          "signature invalid: the statement's signature does not verify with key " + id +
              " (release.pem)");

    CHECK(check_text(dir / "a.so", stranger.sign(statement_of(dir / "a.so")), policy) ==
          "signature invalid: unknown key_id " + key_id(stranger.key.get()) +
              ": not among the trusted keys (" + id + " (release.pem))");
}

TEST_CASE("a statement about other bytes is refused by its sha256") {
    lucid::test::TempDir dir;
    Signer signer(dir / "keys", "release");
    write(dir / "a.so", "artifact bytes");
    write(dir / "b.so", "other bytes");
    CHECK(check_text(dir / "b.so", signer.sign(statement_of(dir / "a.so")),
                     policy_of(dir / "keys")) == "signature statement mismatch: sha256 " +
                                                     sha256_file(dir / "a.so") + ", artifact " +
                                                     sha256_file(dir / "b.so"));
}

TEST_CASE("a statement is checked against the manifest and the agent's platform") {
    const auto manifest = example_manifest();
    CHECK(status_text(check_statement(example_statement(), manifest, "linux_x86_64")).empty());
    auto with = [](auto change) {
        Statement s = example_statement();
        change(s);
        return s;
    };
    CHECK(status_text(check_statement(with([](Statement& s) { s.version = "1.0.0"; }), manifest,
                                      "linux_x86_64")) ==
          "signature statement mismatch: version 1.0.0, artifact 1.2.0");
    CHECK(status_text(check_statement(with([](Statement& s) { s.dist = "lucid-agent-mem"; }),
                                      manifest, "linux_x86_64")) ==
          "signature statement mismatch: dist lucid-agent-mem, artifact lucid-agent-cpu");
    CHECK(status_text(check_statement(with([](Statement& s) { s.component = "mem"; }), manifest,
                                      "linux_x86_64")) ==
          "signature statement mismatch: component mem, artifact cpu");
    CHECK(status_text(check_statement(example_statement(), manifest, "linux_aarch64")) ==
          "signature statement mismatch: platform linux_x86_64, agent linux_aarch64");
}

TEST_CASE("a bare signature is accepted while LUCID_ACCEPT_BARE_SIGNATURES is yes, else refused") {
    lucid::test::TempDir dir;
    Signer signer(dir / "keys", "release");
    write(dir / "a.so", "artifact bytes");
    const std::string bare = signer.sign_bytes("artifact bytes");
    const auto accepted = check_signature(dir / "a.so", sha256_file(dir / "a.so"), bare,
                                          policy_of(dir / "keys", true));
    REQUIRE(accepted);
    CHECK(accepted.value().form == SignatureCheck::Form::bare);
    CHECK(accepted.value().key_file == "release.pem");
    CHECK(check_text(dir / "a.so", bare, policy_of(dir / "keys", false)) ==
          "signature invalid: bare signature refused (LUCID_ACCEPT_BARE_SIGNATURES=no): sign it "
          "with lucidctl sign (lucid-sig-1)");
    // A lucid-sig-1 signature is not affected by the setting.
    CHECK(check_text(dir / "a.so", signer.sign(statement_of(dir / "a.so")),
                     policy_of(dir / "keys", false))
              .empty());
    CHECK(check_text(dir / "a.so", "bm90IGEgc2lnbmF0dXJl", policy_of(dir / "keys", true)) ==
          "signature invalid: expected the base64 of a 64-byte Ed25519 signature");
}

TEST_CASE("a private key file is read, and other PEM texts are refused with the reason") {
    std::string reason;
    CHECK(parse_private_key_pem(kExampleKeyPem, reason));
    CHECK_FALSE(parse_private_key_pem("garbage", reason));
    CHECK(reason == "not a PEM private key");
    CHECK_FALSE(parse_private_key_pem(public_key_pem(example_key().get()), reason));
    CHECK(reason == "not a PEM private key");
    CHECK_FALSE(parse_public_key_pem(kExampleKeyPem, reason));
    CHECK(reason == "a private key: only the public half belongs here (openssl pkey -pubout)");
}
