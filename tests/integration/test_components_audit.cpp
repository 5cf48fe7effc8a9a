// The audit trail in the agent's log: every operation that changes what runs, and every
// refusal, writes exactly one `audit:` line, INFO on success and WARN on refusal or failure,
// with the request_id, the component, the versions from and to, and the outcome, never the
// result's JSON.
#include <doctest/doctest.h>

#include <sstream>
#include <vector>

#include "component_rig.hpp"

using namespace lucid::itest;
namespace fs = std::filesystem;

namespace {

std::string signed_source(const Artifact& a, const SigningKey& key, const std::string& sha256) {
    return R"({"type":"inline","filename":")" + a.name + R"(","data_base64":")" + base64(a.bytes) +
           R"(","sha256":")" + sha256 + R"(","signature":")" + key.sign_base64(a.bytes) + "\"}";
}

// The audit lines of the agent's log that name `request_id`.
std::vector<std::string> audit_lines(const ComponentRig& rig, const std::string& request_id) {
    std::vector<std::string> found;
    std::istringstream log(rig.agent.log());
    for (std::string line; std::getline(log, line);) {
        if (has_text(line, "audit: ") && has_text(line, "request_id='" + request_id + "'")) {
            found.push_back(line);
        }
    }
    return found;
}

// Exactly one audit line for `request_id`, at `level` ("info" or "warning"), containing every
// one of `parts`.
void check_audited(const ComponentRig& rig, const std::string& request_id, const char* level,
                   const std::vector<std::string>& parts) {
    CAPTURE(request_id);
    const auto lines = audit_lines(rig, request_id);
    REQUIRE_MESSAGE(lines.size() == 1, rig.agent.log());
    CAPTURE(lines[0]);
    CHECK(has_text(lines[0], std::string("[") + level + "]"));
    for (const auto& part : parts) CHECK(has_text(lines[0], part));
    CHECK_FALSE(has_text(lines[0], "\"schema\""));  // no result JSON embedded
}

}  // namespace

TEST_CASE("installs, upgrades, rollbacks, control and uninstall each log one audit line") {
    const Artifact echo1 = artifact(LUCID_ITEST_ECHO_1_0);
    const Artifact echo2 = artifact(LUCID_ITEST_ECHO_2_0);
    const Artifact echo3 = artifact(LUCID_ITEST_ECHO_3_0_THROWS);
    SigningKey trusted;
    ComponentRig rig("audit-1");
    const fs::path keys = rig.agent.data_dir() / "trusted-keys";
    trusted.write_public_pem(keys, "release");
    rig.env["LUCID_TRUSTED_KEYS_DIR"] = keys.string();
    rig.env["LUCID_SIGNATURE_POLICY"] = "required";
    rig.env["LUCID_ALLOWED_SOURCE_PREFIXES"] = "http://127.0.0.1:9/allowed/";
    rig.start_agent();

    // Refusals: WARN, nothing installed.
    CHECK_FALSE(ok_of(rig.install("a-unsigned", "echo", inline_source(echo1))));
    check_audited(rig, "a-unsigned", "warning",
                  {"op=install", "component=echo", "from=none", "to=1.0.0", "outcome=failed",
                   "error='signature required"});
    CHECK_FALSE(ok_of(rig.install("a-sha", "echo", signed_source(echo1, trusted, echo2.sha256))));
    check_audited(rig, "a-sha", "warning",
                  {"op=install", "component=echo", "outcome=failed", "error='sha256 mismatch"});
    CHECK_FALSE(ok_of(rig.install(
        "a-prefix", "echo", url_source("http://127.0.0.1:9/other/" + echo1.name, echo1.sha256))));
    check_audited(rig, "a-prefix", "warning", {"op=install", "component=echo", "outcome=failed"});
    // Refused by the dispatcher before any handler ran: still one audit line each.
    CHECK_FALSE(ok_of(rig.install(
        R"({"request_id":"a-dup","component_id":"echo","component_id":"x","source":{}})",
        "a-dup")));
    check_audited(rig, "a-dup", "warning",
                  {"op=install", "component=none", "outcome=failed", "error='validation_error"});
    CHECK_FALSE(ok_of(rig.command(
        "core/cmd/components/stop", "core/evt/components/stop_result",
        R"({"request_id":"a-stop-bad","component_id":"echo","x":1,"x":2})", "a-stop-bad")));
    check_audited(rig, "a-stop-bad", "warning", {"op=stop", "outcome=failed"});
    CHECK_FALSE(ok_of(rig.install("a-invalid", "Bad/Id", inline_source(echo1))));
    check_audited(rig, "a-invalid", "warning",
                  {"op=install", "component=Bad/Id", "outcome=failed", "error='validation_error"});

    // What changes what runs: INFO, with the versions.
    REQUIRE(ok_of(rig.install("a-install", "echo", signed_source(echo1, trusted, echo1.sha256))));
    check_audited(rig, "a-install", "info",
                  {"op=install", "component=echo", "from=none", "to=1.0.0", "outcome=ok"});
    REQUIRE(ok_of(rig.install("a-upgrade", "echo", signed_source(echo2, trusted, echo2.sha256))));
    check_audited(rig, "a-upgrade", "info",
                  {"op=upgrade", "component=echo", "from=1.0.0", "to=2.0.0", "outcome=ok"});
    auto rollback = rig.install("a-rollback", "echo", signed_source(echo3, trusted, echo3.sha256));
    CHECK(flag_of(rollback, "rolled_back"));
    check_audited(rig, "a-rollback", "warning",
                  {"op=upgrade", "component=echo", "from=2.0.0", "to=3.0.0", "outcome=rolled_back",
                   "error='"});
    CHECK(ok_of(rig.install("a-noop", "echo", signed_source(echo2, trusted, echo2.sha256))));
    check_audited(rig, "a-noop", "info", {"op=reinstall", "outcome=noop"});

    for (const char* action : {"stop", "start", "restart", "disable", "enable"}) {
        const std::string id = std::string("a-") + action;
        REQUIRE(ok_of(rig.control(action, "echo", id)));
        check_audited(rig, id, "info",
                      {std::string("op=") + action, "component=echo", "from=2.0.0", "to=2.0.0",
                       "outcome=ok"});
    }
    CHECK_FALSE(ok_of(rig.control("start", "ghost", "a-ghost")));
    check_audited(
        rig, "a-ghost", "warning",
        {"op=start", "component=ghost", "outcome=failed", "error='component not found: ghost'"});

    REQUIRE(ok_of(
        rig.uninstall(R"({"request_id":"a-uninstall","component_id":"echo"})", "a-uninstall")));
    check_audited(rig, "a-uninstall", "info",
                  {"op=uninstall", "component=echo", "from=2.0.0", "to=none", "outcome=ok"});
}
