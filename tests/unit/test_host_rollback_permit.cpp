// Rollback permits (contract §8.13; install/rollback_permit.hpp): the canonical permit, the
// parser, the verification (key by id, signature, expiry), and what the version floor makes of
// allow_downgrade when signatures are required (install/trust_state.hpp).
#include <doctest/doctest.h>

#include <fstream>

#include "contract/timestamp.hpp"
#include "install/base64.hpp"
#include "install/ed25519.hpp"
#include "install/install_request.hpp"
#include "install/rollback_permit.hpp"
#include "install/trust_state.hpp"
#include "temp_dir.hpp"

using namespace lucid::host;
using namespace lucid::host::install;
namespace fs = std::filesystem;

namespace {

// RFC 8032 §7.1 test 1, as in the contract's worked example (openssl reproduces it).
constexpr const char* kExampleKeyPem =
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n"
    "-----END PRIVATE KEY-----\n";
constexpr const char* kExampleKeyId = "21fe31dfa154a261";
constexpr const char* kExampleCanonical =
    R"({"dist":"lucid-agent-cpu","version":"1.0.0","expires_at":"2026-12-01T05:00:00.000Z"})";
constexpr const char* kExampleSignature =
    "5OG1RZPAZ40IpzaIZAe+B4fbLDKa10DBZzIcS1dB3OVjXA/HULdFid8qV7i7M6L5T0svZAeiAIW4Fiw1CMhTBA==";

KeyPtr example_key() {
    std::string reason;
    auto key = parse_private_key_pem(kExampleKeyPem, reason);
    REQUIRE_MESSAGE(key, reason);
    return key;
}

std::chrono::system_clock::time_point at(const std::string& ts) {
    return *contract::parse_utc_timestamp(ts);
}

// The trusted keys of a directory holding `key`'s public half as `<name>.pem`.
TrustedKeySet trusting(const lucid::test::TempDir& dir, EVP_PKEY* key, const std::string& name) {
    std::ofstream(dir / (name + ".pem")) << public_key_pem(key);
    return load_trusted_keys(dir.path());
}

std::string signed_text(EVP_PKEY* key, const Permit& permit) {
    SignedPermit p{key_id(key), permit, ""};
    p.signature = base64_encode(ed25519_sign(key, canonical_permit(permit)));
    return permit_text(p);
}

std::string error_of(std::string_view text) {
    auto parsed = parse_rollback_permit(text);
    return parsed ? "" : parsed.error().message;
}

}  // namespace

TEST_CASE("the contract's worked example: canonical permit and signature, reproducible") {
    const auto key = example_key();
    CHECK(key_id(key.get()) == kExampleKeyId);
    const Permit permit{"lucid-agent-cpu", "1.0.0", "2026-12-01T05:00:00.000Z"};
    CHECK(canonical_permit(permit) == kExampleCanonical);
    CHECK(base64_encode(ed25519_sign(key.get(), kExampleCanonical)) == kExampleSignature);
    const std::string text = signed_text(key.get(), permit);
    CHECK(text ==
          std::string(R"({"format":"lucid-permit-1","key_id":"21fe31dfa154a261","permit":)") +
              kExampleCanonical + R"(,"signature":")" + kExampleSignature + "\"}");
    lucid::test::TempDir dir;
    const auto keys = trusting(dir, key.get(), "release");
    auto ok = verify_rollback_permit(text, keys, {}, at("2026-12-01T04:59:59.999Z"));
    REQUIRE(ok);
    CHECK(ok.value().dist == "lucid-agent-cpu");
    CHECK(ok.value().version == "1.0.0");
    // Member order and spacing of the text do not matter; the canonical permit is rebuilt.
    const std::string spaced =
        std::string(R"( { "signature" : ")") + kExampleSignature +
        R"(", "permit" : {"expires_at":"2026-12-01T05:00:00.000Z","version":"1.0.0",)"
        R"("dist":"lucid-agent-cpu"}, "key_id":"21fe31dfa154a261", "format":"lucid-permit-1"})";
    CHECK(verify_rollback_permit(spaced, keys, {}, at("2026-12-01T00:00:00Z")));
}

TEST_CASE("a permit is refused: expired, unknown key, bad signature, malformed") {
    const auto key = example_key();
    lucid::test::TempDir dir;
    const auto keys = trusting(dir, key.get(), "release");
    const Permit permit{"lucid-agent-cpu", "1.0.0", "2026-12-01T05:00:00.000Z"};
    const std::string text = signed_text(key.get(), permit);

    CHECK(verify_rollback_permit(text, keys, {}, at("2026-10-01T00:00:00Z")).error().message ==
          "rollback permit invalid: it expires at 2026-12-01T05:00:00.000Z, more than 30 days "
          "ahead (a permit is short-lived)");
    CHECK(verify_rollback_permit(text, keys, {}, at("2026-11-01T05:00:00Z")));  // 30 days
    CHECK(verify_rollback_permit(text, keys, {}, at("2026-12-01T05:00:00Z")).error().message ==
          "rollback permit expired at 2026-12-01T05:00:00.000Z");
    const auto stranger = generate_ed25519();
    CHECK(verify_rollback_permit(signed_text(stranger.get(), permit), keys, {},
                                 at("2026-12-01T00:00:00Z"))
              .error()
              .message == "rollback permit invalid: unknown key_id " + key_id(stranger.get()) +
                              ": not among the trusted keys (" + kExampleKeyId + " (release.pem))");
    // Another version under the example's signature: the signature no longer holds.
    std::string forged = text;
    forged.replace(forged.find("\"1.0.0\""), 7, "\"0.1.0\"");
    CHECK(verify_rollback_permit(forged, keys, {}, at("2026-12-01T00:00:00Z")).error().message ==
          std::string("rollback permit invalid: the permit's signature does not verify with key ") +
              kExampleKeyId + " (release.pem)");

    const std::string prefix = "rollback permit invalid: not a lucid-permit-1 permit: ";
    CHECK(error_of("nope") == prefix + "invalid JSON: Invalid value. at offset 1");
    CHECK(error_of("[]") == prefix + "not a JSON object");
    CHECK(error_of(R"({"format":"lucid-sig-1","key_id":"x","permit":{},"signature":""})") ==
          prefix + "'format' is 'lucid-sig-1', not 'lucid-permit-1'");
    std::string no_expiry = text;
    no_expiry.replace(no_expiry.find(",\"expires_at\""), 40, "");
    CHECK(error_of(no_expiry) == prefix + "'permit.expires_at' is missing");
    std::string bad_version = text;
    bad_version.replace(bad_version.find("\"1.0.0\""), 7, "\"1.0\"");
    CHECK(error_of(bad_version) == prefix + "'permit.version' must be a semantic version");
    std::string extra = text;
    extra.replace(extra.find("{\"dist\""), 1, "{\"agent\":\"x\",");
    CHECK(error_of(extra) == prefix + "'permit' has an unknown member 'agent'");
    CHECK(error_of(std::string(5000, ' ')) == prefix + "longer than 4096 bytes");
}

TEST_CASE("signatures required: allow_downgrade goes below the floor only with a matching permit") {
    lucid::test::TempDir dir;
    TrustState trust(dir.path());
    REQUIRE(trust.seed_if_absent({{"lucid-agent-cpu", "2.0.0"}}).value());
    auto refusal = [&](const FloorContext& context, const std::string& version = "1.0.0") {
        const auto refused = trust.check("lucid-agent-cpu", version, context);
        return refused ? refused->message : std::string();
    };
    FloorContext context;
    context.allow_downgrade = true;
    CHECK(refusal(context).empty());  // signatures optional: the flag alone
    context.permit_required = true;
    CHECK(refusal(context) ==
          "downgrade refused: lucid-agent-cpu 1.0.0 < 2.0.0: allow_downgrade needs a "
          "rollback_permit (LUCID_SIGNATURE_POLICY=required)");
    CHECK(refusal(context, "2.1.0").empty());  // no downgrade: no permit needed
    context.permit_error = "rollback permit expired at 2026-12-01T05:00:00.000Z";
    CHECK(refusal(context) == context.permit_error);
    context.permit_error.clear();
    context.permit = Permit{"lucid-agent-echo", "1.0.0", "2026-12-01T05:00:00.000Z"};
    CHECK(refusal(context) ==
          "rollback permit mismatch: dist lucid-agent-echo, install lucid-agent-cpu");
    context.permit = Permit{"lucid-agent-cpu", "0.9.0", "2026-12-01T05:00:00.000Z"};
    CHECK(refusal(context) == "rollback permit mismatch: version 0.9.0, install 1.0.0");
    context.permit = Permit{"lucid-agent-cpu", "1.0.0", "2026-12-01T05:00:00.000Z"};
    CHECK(refusal(context).empty());
    // Dist names compare normalized (PEP 503), as everywhere else.
    context.permit = Permit{"Lucid_Agent.CPU", "1.0.0", "2026-12-01T05:00:00.000Z"};
    CHECK(refusal(context).empty());
    context.permit = Permit{"lucid-agent-cpu", "1.0.0", "2026-12-01T05:00:00.000Z"};
    // Without allow_downgrade a permit changes nothing.
    context.allow_downgrade = false;
    CHECK(refusal(context) == "downgrade refused: lucid-agent-cpu 1.0.0 < 2.0.0");
}

TEST_CASE("the install payload's rollback_permit: a string, with allow_downgrade") {
    auto parse = [](const std::string& extra) {
        rapidjson::Document doc;
        doc.Parse((R"({"request_id":"r","component_id":"echo","source":{"type":"url",)"
                   R"("url":"https://x.test/echo-1.0.0.so","sha256":")" +
                   std::string(64, 'a') + "\"}" + extra + "}")
                      .c_str());
        return parse_install_request(doc, {});
    };
    CHECK(parse(R"(,"allow_downgrade":true,"rollback_permit":"{}")").request->rollback_permit ==
          std::string("{}"));
    CHECK(parse(R"(,"allow_downgrade":true,"rollback_permit":{})").error ==
          "validation_error: 'rollback_permit' must be a string");
    CHECK(parse(R"(,"rollback_permit":"{}")").error ==
          "validation_error: 'rollback_permit' goes with 'allow_downgrade': true");
    CHECK(parse(R"(,"allow_downgrade":null)").error ==
          "validation_error: 'allow_downgrade' must be true or false");
    CHECK(parse(R"(,"allow_downgrade":false)").request);
}
