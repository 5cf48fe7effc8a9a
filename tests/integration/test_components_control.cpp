// start / stop / restart (runtime only) and enable / disable (persisted: a disabled component
// is not started at boot), and `component not found: <id>` for each (contract §4).
#include <doctest/doctest.h>

#include <signal.h>

#include "component_rig.hpp"

using namespace lucid::itest;

namespace {

bool enabled_in_registry(const ComponentRig& rig) {
    return rig.registry()["components"]["echo"]["enabled"].GetBool();
}

}  // namespace

TEST_CASE("stop, start and restart change the running state only") {
    const Artifact echo = artifact(LUCID_ITEST_ECHO_1_0);
    ComponentRig rig("ctl-1");
    rig.start_agent();
    REQUIRE(ok_of(rig.install("ctl-install", "echo", inline_source(echo))));
    REQUIRE(rig.wait_status("echo", "running", "1.0.0"));

    // refresh names the component's own snapshots too.
    auto refresh = rig.command("core/cmd/refresh", "core/evt/refresh_result",
                               R"({"request_id":"ctl-refresh"})", "ctl-refresh");
    CHECK(refresh.json_text("snapshots_updated") ==
          R"(["status","metadata","state","components","cfg","components/echo/status",)"
          R"("components/echo/cfg","deployment"])");

    rig.client->clear();
    auto stop = rig.control("stop", "echo", "ctl-stop");
    CHECK(ok_of(stop));
    CHECK(std::string(stop.json()["component_id"].GetString()) == "echo");
    CHECK_FALSE(flag_of(stop, "restart_required"));
    CHECK(rig.wait_status("echo", "stopped", "1.0.0"));
    CHECK(rig.client->wait_for(rig.agent.topic("core/components"), [](const Message& m) {
        return has_text(m.payload, R"("state":"stopped")");
    }));
    // Stopped components do not answer their commands; the registry still says enabled.
    CHECK(enabled_in_registry(rig));

    rig.client->clear();
    CHECK(ok_of(rig.control("start", "echo", "ctl-start")));
    CHECK(rig.wait_status("echo", "running", "1.0.0"));
    rig.echo_answers("after-start");

    auto twice = rig.control("start", "echo", "ctl-start-2");
    CHECK(ok_of(twice));
    CHECK(flag_of(twice, "noop"));

    rig.client->clear();
    CHECK(ok_of(rig.control("restart", "echo", "ctl-restart")));
    // A restart passes through stopped and ends running.
    CHECK(rig.wait_status("echo", "stopped"));
    CHECK(rig.wait_status("echo", "running", "1.0.0"));
    rig.echo_answers("after-restart");
}

TEST_CASE("disable is persisted: a disabled component is not started at boot") {
    const Artifact echo = artifact(LUCID_ITEST_ECHO_1_0);
    ComponentRig rig("ctl-2");
    rig.start_agent();
    REQUIRE(ok_of(rig.install("dis-install", "echo", inline_source(echo))));
    REQUIRE(rig.wait_status("echo", "running", "1.0.0"));

    auto disable = rig.control("disable", "echo", "dis-1");
    CHECK(ok_of(disable));
    CHECK(has_text(disable.payload, R"("enabled":false)"));
    CHECK_FALSE(enabled_in_registry(rig));

    REQUIRE(rig.agent.stop(SIGTERM) == 0);
    rig.client->clear();
    rig.start_agent();
    CHECK(rig.wait_status("echo", "stopped", "1.0.0"));
    CHECK(rig.client->wait_for(rig.agent.topic("core/components"), [](const Message& m) {
        return has_text(m.payload, R"("enabled":false)") &&
               has_text(m.payload, R"("state":"stopped")");
    }));
    // Disabled does not forbid a manual start.
    CHECK(ok_of(rig.control("start", "echo", "dis-start")));
    rig.echo_answers("disabled-but-started");

    auto enable = rig.control("enable", "echo", "en-1");
    CHECK(ok_of(enable));
    CHECK(has_text(enable.payload, R"("enabled":true)"));
    CHECK(enabled_in_registry(rig));
    REQUIRE(rig.agent.stop(SIGTERM) == 0);
    rig.client->clear();
    rig.start_agent();
    CHECK(rig.wait_status("echo", "running", "1.0.0"));
    rig.echo_answers("enabled-at-boot");
}

TEST_CASE("every control command names a component it does not know") {
    ComponentRig rig("ctl-3");
    rig.start_agent();
    for (const char* action : {"start", "stop", "restart", "enable", "disable"}) {
        CAPTURE(action);
        auto m = rig.control(action, "ghost", std::string("nf-") + action);
        CHECK_FALSE(ok_of(m));
        CHECK(error_of(m) == "component not found: ghost");
        auto invalid = rig.control(action, "Bad/Id", std::string("inv-") + action);
        CHECK(error_of(invalid) ==
              "validation_error: component_id 'Bad/Id' is invalid; allowed: "
              "[a-z0-9][a-z0-9_-]{0,63}");
        // Echoed even when refused, as the earlier agent did; a long one cut like in the error.
        CHECK(invalid.str("component_id") == "Bad/Id");
        auto long_id = rig.control(action, std::string(300, 'X'), std::string("long-") + action);
        CHECK(long_id.str("component_id") == std::string(128, 'X') + "...(300 bytes)");
        auto missing = rig.command(std::string("core/cmd/components/") + action,
                                   std::string("core/evt/components/") + action + "_result",
                                   R"({"request_id":"miss-)" + std::string(action) + "\"}",
                                   std::string("miss-") + action);
        CHECK_FALSE(ok_of(missing));
        CHECK(has_text(error_of(missing), "validation_error:"));
        rig.client->clear();
    }
}
