// run_as (README "Process isolation", contract §4.13, §8.2): an isolated component's child runs
// as another user, with extra groups, but only as users and groups the device's own
// LUCID_RUN_AS_ALLOWED lists, so that choosing a uid over MQTT is no privilege escalation. The
// plugin file stays the agent's (0640): the runner loads a copy it made while still root.
//
// Switching users needs root: run as another user (CI runs as root) these tests are skipped,
// and say so. They use the system's `nobody` and `nogroup`.
#include <doctest/doctest.h>

#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "component_rig.hpp"
#include "runner_processes.hpp"

using namespace lucid::itest;

namespace {

// Why the tests that switch users cannot run here; empty when they can.
std::string cannot_switch_users() {
    if (::geteuid() != 0) return "not root";
    if (!::getpwnam("nobody")) return "no user nobody";
    if (!::getgrnam("nogroup")) return "no group nogroup";
    return "";
}

const std::string g_cannot = cannot_switch_users();
const bool g_skip = [] {
    if (!g_cannot.empty()) {
        std::fprintf(stderr, "test_components_run_as: user-switching tests skipped: %s\n",
                     g_cannot.c_str());
    }
    return !g_cannot.empty();
}();

long nobody_uid() { return static_cast<long>(::getpwnam("nobody")->pw_uid); }
long nogroup_gid() { return static_cast<long>(::getgrnam("nogroup")->gr_gid); }

struct RunAsRig : ComponentRig {
    RunAsRig(const std::string& agent_id, const std::string& allowed) : ComponentRig(agent_id) {
        env["LUCID_RUN_AS_ALLOWED"] = allowed;
        start_agent();
    }

    Message install_echo(const std::string& request_id, const std::string& extra) {
        return install(install_payload(request_id, "echo",
                                       inline_source(artifact(LUCID_ITEST_ECHO_1_0)), extra),
                       request_id);
    }

    Message configure(const std::string& payload, const std::string& request_id) {
        return command("core/cmd/components/configure", "core/evt/components/configure_result",
                       payload, request_id);
    }

    // The one runner child of the agent.
    int runner() {
        const auto pids = runners_of(agent.process().pid());
        REQUIRE_MESSAGE(pids.size() == 1, agent.log());
        return pids.front();
    }
};

std::string containment_of(const Message& status, const char* measure) {
    auto doc = status.json();
    if (!doc.HasMember("containment") || !doc["containment"].HasMember(measure)) return "";
    return doc["containment"][measure].GetString();
}

const std::string kNobody =
    R"(,"isolation":"process","run_as":{"user":"nobody","groups":["nogroup"]})";

}  // namespace

TEST_CASE("an isolated plugin runs as an allowed user, from a file that user cannot read" *
          doctest::skip(g_skip)) {
    RunAsRig rig("runas-ok", "nobody:nogroup");
    auto installed = rig.install_echo("install-1", kNobody);
    REQUIRE_MESSAGE(ok_of(installed), installed.payload);
    auto status = rig.wait_status("echo", "running");
    REQUIRE_MESSAGE(status, rig.agent.log());
    CHECK(containment_of(*status, "run_as") == "applied");
    CHECK(status->json_text("run_as") == R"({"user":"nobody","groups":["nogroup"]})");
    CHECK(containment_of(*status, "writable_dir") == "applied");
    // The copy is loaded under Landlock where the kernel has it (/proc/self/fd/N of a memfd).
    const std::string landlock = containment_of(*status, "landlock");
    CHECK_MESSAGE((landlock == "applied" || landlock.rfind("unavailable: ", 0) == 0), landlock);

    // The child's real, effective, saved and filesystem ids are nobody's, nogroup among its
    // groups: nothing of root is left.
    const int child = rig.runner();
    CHECK(proc_status_numbers(child, "Uid:") == std::vector<long>(4, nobody_uid()));
    CHECK(proc_status_numbers(child, "Gid:") == std::vector<long>(4, nogroup_gid()));
    const auto groups = proc_status_numbers(child, "Groups:");
    CHECK(std::find(groups.begin(), groups.end(), nogroup_gid()) != groups.end());
    CHECK(std::find(groups.begin(), groups.end(), 0L) == groups.end());
    rig.echo_answers("echo-as-nobody");

    // The installed file is the agent's: nobody could not have opened it (the runner loaded
    // its own copy); the component's directory is nobody's.
    auto registry = rig.registry();
    const std::string path = registry["components"]["echo"]["path"].GetString();
    struct stat file {};
    REQUIRE(::stat(path.c_str(), &file) == 0);
    CHECK(file.st_uid == 0);
    CHECK((file.st_mode & 0007) == 0);
    struct stat dir {};
    REQUIRE(::stat((rig.data() / "isolated" / "echo").c_str(), &dir) == 0);
    CHECK(static_cast<long>(dir.st_uid) == nobody_uid());

    // Persisted, and shown in core/components.
    CHECK(has_text(registry_entry(registry, "echo"),
                   R"("run_as":{"user":"nobody","groups":["nogroup"]})"));
    auto listed = rig.client->wait_for(
        rig.agent.topic("core/components"),
        [](const Message& m) { return has_text(m.payload, R"("user":"nobody")"); },
        std::chrono::seconds(5));
    CHECK(listed);

    // Back to the agent's own user: {}.
    auto back = rig.configure(R"({"request_id":"c1","component_id":"echo","run_as":{}})", "c1");
    REQUIRE_MESSAGE(ok_of(back), back.payload);
    CHECK(back.json_text("run_as") == "{}");
    rig.client->clear();
    rig.echo_answers("echo-as-root");
    CHECK(proc_status_numbers(rig.runner(), "Uid:") == std::vector<long>(4, 0));
}

TEST_CASE("a user or group the local setting does not list is refused, naming it and the setting" *
          doctest::skip(g_skip)) {
    RunAsRig rig("runas-refused", "nobody,lucid-no-such-user");
    auto root =
        rig.install_echo("install-root", R"(,"isolation":"process","run_as":{"user":"root"})");
    CHECK(error_of(root) == "run_as not allowed: root (not in LUCID_RUN_AS_ALLOWED)");
    auto group = rig.install_echo("install-group", kNobody);
    CHECK(error_of(group) ==
          "run_as not allowed: group nogroup for nobody (not in LUCID_RUN_AS_ALLOWED)");
    auto in_process = rig.install_echo("install-in-process", R"(,"run_as":{"user":"nobody"})");
    CHECK(error_of(in_process) == "run_as needs isolation process: echo would run in_process");
    CHECK(registry_entry(rig.registry(), "echo").empty());
    CHECK(runners_of(rig.agent.process().pid()).empty());

    auto allowed =
        rig.install_echo("install-nobody", R"(,"isolation":"process","run_as":{"user":"nobody"})");
    REQUIRE_MESSAGE(ok_of(allowed), allowed.payload);
    REQUIRE(rig.wait_status("echo", "running"));
    auto daemon = rig.configure(
        R"({"request_id":"c1","component_id":"echo","run_as":{"user":"daemon"}})", "c1");
    CHECK(error_of(daemon) == "run_as not allowed: daemon (not in LUCID_RUN_AS_ALLOWED)");
    auto moved = rig.configure(
        R"({"request_id":"c2","component_id":"echo","isolation":"in_process"})", "c2");
    CHECK(error_of(moved) == "run_as needs isolation process: echo would run in_process");
    // Listed, but no such account: refused now, not by the child it would restart into.
    auto ghost = rig.configure(
        R"({"request_id":"c4","component_id":"echo","run_as":{"user":"lucid-no-such-user"}})",
        "c4");
    CHECK(error_of(ghost) == "run_as: no such user: lucid-no-such-user");
    auto malformed =
        rig.configure(R"({"request_id":"c3","component_id":"echo","run_as":{"user":"0"}})", "c3");
    CHECK(has_text(error_of(malformed), "validation_error: 'run_as.user' '0' is not a user"));
    // Nothing changed: still nobody's child.
    CHECK(has_text(registry_entry(rig.registry(), "echo"), R"("run_as":{"user":"nobody")"));
    CHECK(proc_status_numbers(rig.runner(), "Uid:") == std::vector<long>(4, nobody_uid()));
    rig.echo_answers("echo-still-nobody");
}

TEST_CASE("a run_as the setting in force no longer allows fails its component at start" *
          doctest::skip(g_skip)) {
    RunAsRig rig("runas-revoked", "nobody:nogroup");
    REQUIRE(ok_of(rig.install_echo("install-1", kNobody)));
    REQUIRE(rig.wait_status("echo", "running"));

    rig.agent.stop(SIGTERM);
    rig.client->clear();
    rig.env["LUCID_RUN_AS_ALLOWED"] = "nobody";  // nogroup no longer
    rig.start_agent();
    auto failed = rig.client->wait_for(
        rig.agent.topic("components/echo/status"),
        [](const Message& m) { return m.str("state") == "failed"; }, std::chrono::seconds(10));
    REQUIRE_MESSAGE(failed, rig.agent.log());
    CHECK(has_text(failed->str("error"),
                   "run_as not allowed: group nogroup for nobody (not in LUCID_RUN_AS_ALLOWED)"));
    CHECK(runners_of(rig.agent.process().pid()).empty());
}

TEST_CASE("the desired state sets run_as, and one the setting does not allow fails alone" *
          doctest::skip(g_skip)) {
    RunAsRig rig("runas-desired", "nobody");
    auto meta = rig.client->wait_for(rig.agent.topic("core/metadata"), [](const Message& m) {
        return !m.str("build_platform").empty();
    });
    REQUIRE(meta);
    const Artifact echo = artifact(LUCID_ITEST_ECHO_1_0);
    auto document = [&](int revision, const std::string& run_as) {
        return R"({"revision":)" + std::to_string(revision) +
               R"(,"components":{"echo":{"version":"1.0.0","isolation":"process","run_as":)" +
               run_as + R"(,"artifacts":{)" + json_string(meta->str("build_platform")) +
               R"(:{"source":)" + url_source("file://" + echo.path.string(), echo.sha256) + "}}}}}";
    };
    auto deployed = [&](int revision, const std::string& state) {
        return rig.client->wait_for(
            rig.agent.topic("core/deployment"),
            [&](const Message& m) {
                return has_text(m.payload, R"("revision":)" + std::to_string(revision) + ",") &&
                       m.str("state") == state;
            },
            std::chrono::seconds(20));
    };
    rig.client->publish(rig.agent.topic("desired"), document(1, R"({"user":"nobody"})"), 1, true);
    REQUIRE_MESSAGE(deployed(1, "converged"), rig.agent.log());
    REQUIRE(rig.wait_status("echo", "running"));
    CHECK(proc_status_numbers(rig.runner(), "Uid:") == std::vector<long>(4, nobody_uid()));

    rig.client->publish(rig.agent.topic("desired"), document(2, R"({"user":"root"})"), 1, true);
    auto failed = deployed(2, "failed");
    REQUIRE_MESSAGE(failed, rig.agent.log());
    CHECK(has_text(failed->payload, "run_as not allowed: root (not in LUCID_RUN_AS_ALLOWED)"));
    CHECK(proc_status_numbers(rig.runner(), "Uid:") == std::vector<long>(4, nobody_uid()));
    rig.echo_answers("echo-still-nobody");
}

TEST_CASE("check-config shows LUCID_RUN_AS_ALLOWED and refuses a malformed one") {
    auto [code, out] = run_to_completion({LUCID_AGENT_BIN, "check-config"},
                                         {{"LUCID_AGENT_ID", "cfg-1"},
                                          {"LUCID_DATA_DIR", "/tmp/x"},
                                          {"LUCID_ENV_FILE", "/dev/null"},
                                          {"LUCID_RUN_AS_ALLOWED", "nobody:nogroup, daemon"}});
    CHECK(code == 0);
    CHECK(has_text(out, "run_as_allowed"));
    CHECK(has_text(out, "daemon,nobody:nogroup"));
    CHECK(has_text(out, "(environment LUCID_RUN_AS_ALLOWED)"));

    std::tie(code, out) = run_to_completion({LUCID_AGENT_BIN, "check-config"},
                                            {{"LUCID_AGENT_ID", "cfg-1"},
                                             {"LUCID_DATA_DIR", "/tmp/x"},
                                             {"LUCID_ENV_FILE", "/dev/null"},
                                             {"LUCID_RUN_AS_ALLOWED", "nobody::nogroup"}});
    CHECK(code == 2);
    CHECK(has_text(out,
                   "run_as_allowed (environment LUCID_RUN_AS_ALLOWED) must be USER or "
                   "USER:GROUP:... entries separated by commas: entry 1 'nobody::nogroup': "
                   "empty group name"));
}
