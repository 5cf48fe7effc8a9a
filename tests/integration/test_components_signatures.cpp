// Ed25519 signatures over artifacts (contract §4, issue 5 item 2): a key pair generated at test
// time, its public half in LUCID_TRUSTED_KEYS_DIR. With the policy `required`, unsigned and
// badly signed artifacts are refused; with the default policy a bad signature is still refused.
#include <doctest/doctest.h>

#include "component_rig.hpp"

using namespace lucid::itest;
namespace fs = std::filesystem;

namespace {

std::string signed_source(const Artifact& a, const std::string& signature) {
    return R"({"type":"inline","filename":")" + a.name + R"(","data_base64":")" + base64(a.bytes) +
           R"(","sha256":")" + a.sha256 + R"(","signature":)" + json_string(signature) + "}";
}

}  // namespace

TEST_CASE("with signatures required only artifacts signed by a trusted key install") {
    const Artifact echo = artifact(LUCID_ITEST_ECHO_1_0);
    SigningKey trusted;
    SigningKey stranger;
    ComponentRig rig("sig-1");
    const fs::path keys = rig.agent.data_dir() / "trusted-keys";
    trusted.write_public_pem(keys, "release");
    rig.env["LUCID_TRUSTED_KEYS_DIR"] = keys.string();
    rig.env["LUCID_SIGNATURE_POLICY"] = "required";
    rig.start_agent();

    auto unsigned_result = rig.install("sig-unsigned", "echo", inline_source(echo));
    CHECK_FALSE(ok_of(unsigned_result));
    CHECK(error_of(unsigned_result) == "signature required: the artifact is unsigned");

    auto stranger_result =
        rig.install("sig-stranger", "echo", signed_source(echo, stranger.sign_base64(echo.bytes)));
    CHECK_FALSE(ok_of(stranger_result));
    CHECK(error_of(stranger_result) == "signature invalid: no trusted key verifies this artifact");

    // A trusted key's signature over other bytes does not vouch for these.
    auto other_bytes =
        rig.install("sig-other", "echo", signed_source(echo, trusted.sign_base64("other bytes")));
    CHECK(error_of(other_bytes) == "signature invalid: no trusted key verifies this artifact");

    auto garbage = rig.install("sig-garbage", "echo", signed_source(echo, base64("short")));
    CHECK(error_of(garbage) ==
          "signature invalid: expected the base64 of a 64-byte Ed25519 signature");

    CHECK_FALSE(fs::exists(rig.data() / "components" / "lucid-agent-echo"));

    auto good =
        rig.install("sig-good", "echo", signed_source(echo, trusted.sign_base64(echo.bytes)));
    CHECK_MESSAGE(ok_of(good), good.payload);
    CHECK(rig.wait_status("echo", "running", "1.0.0"));
}

TEST_CASE("with signatures optional a bad signature is still refused and none is accepted") {
    const Artifact echo = artifact(LUCID_ITEST_ECHO_1_0);
    SigningKey trusted;
    SigningKey stranger;
    ComponentRig rig("sig-2");
    const fs::path keys = rig.agent.data_dir() / "trusted-keys";
    trusted.write_public_pem(keys, "release");
    rig.env["LUCID_TRUSTED_KEYS_DIR"] = keys.string();
    rig.start_agent();

    auto bad =
        rig.install("opt-bad", "echo", signed_source(echo, stranger.sign_base64(echo.bytes)));
    CHECK_FALSE(ok_of(bad));
    CHECK(error_of(bad) == "signature invalid: no trusted key verifies this artifact");

    auto unsigned_result = rig.install("opt-unsigned", "echo", inline_source(echo));
    CHECK_MESSAGE(ok_of(unsigned_result), unsigned_result.payload);
}
