// Crash safety (issue 5 item 6): an agent killed with SIGKILL after an install, or in the middle
// of one, starts again with the registry and the component directory consistent; a plugin that
// takes the agent down while starting is quarantined at the next start (not loaded, status
// says so) until it is enabled again (more in test_components_crash_quarantine.cpp).
#include <doctest/doctest.h>

#include <signal.h>

#include <set>

#include "component_rig.hpp"
#include "http_server.hpp"

using namespace lucid::itest;
namespace fs = std::filesystem;

namespace {

std::set<std::string> entries_of(const fs::path& dir) {
    std::set<std::string> names;
    std::error_code ec;
    if (!fs::exists(dir, ec)) return names;
    for (const auto& e : fs::directory_iterator(dir)) names.insert(e.path().filename().string());
    return names;
}

// A format-1 registry entry for an artifact copied into the data dir as an install would.
std::string native_entry(const ComponentRig& rig, const std::string& cid, const std::string& dist,
                         const Artifact& a) {
    const fs::path placed = rig.data() / "components" / dist / "1.0.0" / a.name;
    fs::create_directories(placed.parent_path());
    fs::copy_file(a.path, placed);
    return json_string(cid) + R"(:{"component_id":)" + json_string(cid) + R"(,"dist_name":)" +
           json_string(dist) + R"(,"version":"1.0.0","sha256":")" + a.sha256 + R"(","path":)" +
           json_string(placed.string()) + R"(,"source":{"type":"inline","filename":)" +
           json_string(a.name) +
           R"(},"enabled":true,"config":{},"installed_at":"2026-01-01T00:00:00.000Z",)"
           R"("previous":null,"kind":"native"})";
}

}  // namespace

TEST_CASE("an agent killed after an install result starts again with the component running") {
    const Artifact v1 = artifact(LUCID_ITEST_ECHO_1_0);
    const Artifact v2 = artifact(LUCID_ITEST_ECHO_2_0);
    ComponentRig rig("crash-1");
    rig.start_agent();
    REQUIRE(ok_of(rig.install("cs-v1", "echo", inline_source(v1))));
    REQUIRE(ok_of(rig.install("cs-v2", "echo", inline_source(v2))));
    const std::string entry_before = registry_entry(rig.registry(), "echo");

    rig.agent.stop(SIGKILL);
    rig.client->clear();
    rig.start_agent();
    CHECK_MESSAGE(rig.wait_status("echo", "running", "2.0.0"), rig.agent.log());
    auto answer = rig.plugin_command("echo", "echo", R"({"request_id":"cs-echo"})", "cs-echo");
    CHECK(answer);

    auto registry = rig.registry();
    CHECK(registry_entry(registry, "echo") == entry_before);
    const auto& entry = registry["components"]["echo"];
    CHECK(fs::exists(entry["path"].GetString()));
    CHECK(fs::exists(entry["previous"]["path"].GetString()));
    CHECK(entries_of(rig.data() / "components" / "lucid-agent-echo") ==
          std::set<std::string>{"1.0.0", "2.0.0"});
    CHECK(entries_of(rig.data() / "staging").empty());
}

TEST_CASE("an agent killed in the middle of a download starts again without a trace of it") {
    HttpServer http;
    const Artifact echo = artifact(LUCID_ITEST_ECHO_1_0);
    const std::string path = "/slow/" + echo.name;
    http.serve(path, echo.bytes);
    http.hold(path);
    ComponentRig rig("crash-2");
    rig.start_agent();
    rig.client->publish(
        rig.agent.topic("core/cmd/components/install"),
        install_payload("cs-slow", "echo", url_source(http.url(path), echo.sha256)));
    REQUIRE(http.wait_held(1, std::chrono::seconds(10)));
    REQUIRE_FALSE(entries_of(rig.data() / "staging").empty());  // the partial download

    rig.agent.stop(SIGKILL);
    http.release();
    rig.client->clear();
    rig.start_agent();
    CHECK(ok_of(rig.ping("cs-after")));
    CHECK(entries_of(rig.data() / "staging").empty());
    CHECK(entries_of(rig.data() / "components").empty());
    CHECK(registry_entry(rig.registry(), "echo").empty());
    CHECK(rig.client->messages(rig.agent.topic("components/echo/status")).empty());

    // Nothing is in the way of installing it now.
    auto again = rig.install("cs-again", "echo", inline_source(echo));
    CHECK_MESSAGE(ok_of(again), again.payload);
}

TEST_CASE("a plugin that crashes the agent while starting runs in a child from the next start") {
    const Artifact crash = artifact(LUCID_ITEST_CRASH);
    const Artifact echo = artifact(LUCID_ITEST_ECHO_1_0);
    ComponentRig rig("crash-3");
    fs::create_directories(rig.data());
    write_bytes(rig.data() / "registry.json",
                R"({"format":1,"components":{)" +
                    native_entry(rig, "crash", "lucid-itest-crash", crash) + "," +
                    native_entry(rig, "echo", "lucid-agent-echo", echo) + "}}");

    // First start: the plugin's start() aborts the whole agent.
    rig.agent.start(rig.env);
    const auto died = rig.agent.process().wait_exit(std::chrono::seconds(20));
    REQUIRE_MESSAGE(died, rig.agent.log());
    CHECK(*died == 128 + SIGABRT);

    // Next start: it is started in a child process, where its abort ends only the child; the
    // agent and everything else run.
    rig.start_agent();
    auto status = rig.wait_status("crash", "failed", "1.0.0");
    REQUIRE_MESSAGE(status, rig.agent.log());
    CHECK(status->str("error") == "start failed: crashed: SIGABRT in start");
    CHECK(status->str("isolation") == "process");
    CHECK(status->str("demoted_because") == "crashed: SIGABRT in start");
    CHECK(rig.wait_status("echo", "running", "1.0.0"));
    CHECK(has_text(registry_entry(rig.registry(), "crash"), R"("isolation":"process")"));

    // Starting it by hand fails the same way, and the agent stays up: same session.
    auto start = rig.control("start", "crash", "q-start");
    CHECK_FALSE(ok_of(start));
    CHECK_MESSAGE(has_text(error_of(start), "crashed: SIGABRT in start"), start.payload);
    CHECK(ok_of(rig.ping("after-start")));

    // It stays in its child across restarts.
    REQUIRE(rig.agent.stop(SIGTERM) == 0);
    rig.client->clear();
    rig.start_agent();
    auto again = rig.wait_status("crash", "failed", "1.0.0");
    REQUIRE(again);
    CHECK(again->str("isolation") == "process");
}

TEST_CASE("a plugin that crashes the agent during its install leaves nothing half-installed") {
    const Artifact crash = artifact(LUCID_ITEST_CRASH);
    ComponentRig rig("crash-4");
    rig.start_agent();
    rig.client->publish(rig.agent.topic("core/cmd/components/install"),
                        install_payload("cs-crash", "crash", inline_source(crash)));
    const auto died = rig.agent.process().wait_exit(std::chrono::seconds(20));
    REQUIRE_MESSAGE(died, rig.agent.log());
    CHECK(*died == 128 + SIGABRT);

    rig.client->clear();
    rig.start_agent();
    CHECK(ok_of(rig.ping("cs-crash-after")));
    // Installed whole, in process isolation (issue 17 #5), where it can crash only itself: the
    // entry and its one file, no staging leftover, no marker; answered so, not run in-process
    // again.
    auto answer = rig.client->wait_for(rig.agent.topic("core/evt/components/install_result"),
                                       with_request_id("cs-crash"));
    REQUIRE_MESSAGE(answer, rig.agent.log());
    CHECK(ok_of(*answer));
    CHECK(flag_of(*answer, "demoted"));
    const rapidjson::Document registry = rig.registry();
    REQUIRE(registry["components"].HasMember("crash"));
    const auto& entry = registry["components"]["crash"];
    CHECK(std::string(entry["isolation"].GetString()) == "process");
    const fs::path file = entry["path"].GetString();
    CHECK(fs::exists(file));
    CHECK(entries_of(file.parent_path()).size() == 1);
    CHECK(entries_of(rig.data() / "staging").empty());
    CHECK(entries_of(rig.data() / "starting").empty());
    CHECK(entries_of(rig.data() / "installing").empty());
}
