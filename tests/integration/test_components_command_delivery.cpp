// Plugin commands reach an answer whatever the component is doing: sent while the agent is
// stopped cleanly (a maintenance restart) they run once after it is back, like core commands;
// sent to a stopped or uninstalled component they are answered with why they did not run.
#include <doctest/doctest.h>

#include <signal.h>

#include "component_rig.hpp"

using namespace lucid::itest;

namespace {

std::string request(const std::string& id) { return R"({"request_id":")" + id + "\"}"; }

// The results on `topic` carrying `request_id`, received so far.
std::size_t answers(ComponentRig& rig, const std::string& topic, const std::string& request_id) {
    std::size_t n = 0;
    for (const auto& m : rig.client->messages(rig.agent.topic(topic))) {
        if (m.str("request_id") == request_id) ++n;
    }
    return n;
}

}  // namespace

TEST_CASE("plugin and core commands sent while the agent is stopped cleanly are answered once") {
    const Artifact probe = artifact(LUCID_ITEST_PROBE);
    ComponentRig rig("deliver-1");
    rig.start_agent();
    REQUIRE(ok_of(rig.install("d-install", "probe", inline_source(probe))));
    REQUIRE(rig.wait_status("probe", "running", "1.0.0"));
    auto before = rig.plugin_command("probe", "count", request("d-before"), "d-before");
    REQUIRE(before);
    CHECK(has_text(before->payload, R"("count":1)"));

    // A maintenance restart: SIGTERM, commands while the agent is away, start again.
    REQUIRE(rig.agent.stop(SIGTERM) == 0);
    rig.client->clear();
    for (int i = 1; i <= 3; ++i) {
        rig.client->publish(rig.agent.topic("components/probe/cmd/count"),
                            request("d-count-" + std::to_string(i)));
    }
    rig.client->publish(rig.agent.topic("core/cmd/ping"), request("d-ping"));
    rig.start_agent();

    for (int i = 1; i <= 3; ++i) {
        const std::string id = "d-count-" + std::to_string(i);
        CAPTURE(id);
        auto answer = rig.client->wait_for(rig.agent.topic("components/probe/evt/count_result"),
                                           with_request_id(id));
        REQUIRE_MESSAGE(answer, rig.agent.log());
        CHECK(ok_of(*answer));
    }
    REQUIRE(
        rig.client->wait_for(rig.agent.topic("core/evt/ping_result"), with_request_id("d-ping")));
    // Exactly once: the plugin counted each command once, and a command sent after them through
    // the same plugin queue (so after any copy of them) sees count 4.
    auto last = rig.plugin_command("probe", "count", request("d-after"), "d-after");
    REQUIRE(last);
    CHECK(has_text(last->payload, R"("count":4)"));
    for (int i = 1; i <= 3; ++i) {
        CHECK(answers(rig, "components/probe/evt/count_result", "d-count-" + std::to_string(i)) ==
              1);
    }
    CHECK(answers(rig, "core/evt/ping_result", "d-ping") == 1);
}

TEST_CASE("a command that expired while the agent was away is answered expired, not run") {
    const Artifact probe = artifact(LUCID_ITEST_PROBE);
    ComponentRig rig("deliver-exp");
    rig.start_agent();
    REQUIRE(ok_of(rig.install("e-install", "probe", inline_source(probe))));
    REQUIRE(rig.wait_status("probe", "running", "1.0.0"));

    REQUIRE(rig.agent.stop(SIGTERM) == 0);
    rig.client->clear();
    const std::string past = R"(,"expires_at":"2020-01-01T00:00:00Z"})";
    const std::string future = R"(,"expires_at":"2199-01-01T00:00:00.000Z"})";
    auto with = [](const std::string& id, const std::string& tail) {
        return R"({"request_id":")" + id + "\"" + tail;
    };
    rig.client->publish(rig.agent.topic("components/probe/cmd/count"), with("e-old", past));
    rig.client->publish(rig.agent.topic("components/probe/cmd/count"), with("e-new", future));
    rig.client->publish(rig.agent.topic("core/cfg/set"),
                        R"({"request_id":"e-cfg","set":{"heartbeat_s":7})" + past);
    rig.client->publish(rig.agent.topic("core/cmd/ping"),
                        with("e-bad", R"(,"expires_at":"tomorrow"})"));
    // Refused commands that name a component still echo it (contract §3.4): from the topic of
    // a component cfg/set, from the payload of a core component command.
    rig.client->publish(rig.agent.topic("components/probe/cfg/set"),
                        R"({"request_id":"e-ccfg","set":{"mode":"x"})" + past);
    rig.client->publish(rig.agent.topic("core/cmd/components/stop"),
                        R"({"request_id":"e-stop","component_id":"probe","expires_at":5})");
    rig.start_agent();
    auto ccfg = rig.client->wait_for(rig.agent.topic("components/probe/evt/cfg_set_result"),
                                     with_request_id("e-ccfg"));
    REQUIRE_MESSAGE(ccfg, rig.agent.log());
    CHECK(error_of(*ccfg) == "expired: 2020-01-01T00:00:00Z");
    CHECK(ccfg->str("component_id") == "probe");
    auto stop = rig.client->wait_for(rig.agent.topic("core/evt/components/stop_result"),
                                     with_request_id("e-stop"));
    REQUIRE(stop);
    CHECK(has_text(error_of(*stop), "'expires_at' must be a UTC time"));
    CHECK(stop->str("component_id") == "probe");

    auto old_count = rig.client->wait_for(rig.agent.topic("components/probe/evt/count_result"),
                                          with_request_id("e-old"));
    REQUIRE_MESSAGE(old_count, rig.agent.log());
    CHECK_FALSE(ok_of(*old_count));
    CHECK(error_of(*old_count) == "expired: 2020-01-01T00:00:00Z");
    auto new_count = rig.client->wait_for(rig.agent.topic("components/probe/evt/count_result"),
                                          with_request_id("e-new"));
    REQUIRE(new_count);
    CHECK(ok_of(*new_count));
    CHECK(has_text(new_count->payload, R"("count":1)"));  // the expired one never ran
    auto cfg =
        rig.client->wait_for(rig.agent.topic("core/evt/cfg_set_result"), with_request_id("e-cfg"));
    REQUIRE(cfg);
    CHECK(error_of(*cfg) == "expired: 2020-01-01T00:00:00Z");
    auto bad =
        rig.client->wait_for(rig.agent.topic("core/evt/ping_result"), with_request_id("e-bad"));
    REQUIRE(bad);
    CHECK(error_of(*bad) ==
          "validation_error: 'expires_at' must be a UTC time like 2026-11-30T14:00:00Z");
    // The expired answer is recorded: the same request again gets it, and still nothing runs.
    rig.client->clear();
    rig.client->publish(rig.agent.topic("components/probe/cmd/count"), with("e-old", future));
    auto again = rig.client->wait_for(rig.agent.topic("components/probe/evt/count_result"),
                                      with_request_id("e-old"));
    REQUIRE(again);
    CHECK(again->payload == old_count->payload);
}

TEST_CASE("a command to a stopped, uninstalled or unknown component is answered with why") {
    const Artifact echo = artifact(LUCID_ITEST_ECHO_1_0);
    ComponentRig rig("deliver-2");
    rig.start_agent();
    REQUIRE(ok_of(rig.install("n-install", "echo", inline_source(echo))));
    REQUIRE(rig.wait_status("echo", "running", "1.0.0"));
    rig.echo_answers("n-running");

    REQUIRE(ok_of(rig.control("stop", "echo", "n-stop")));
    auto stopped = rig.plugin_command("echo", "echo", request("n-stopped"), "n-stopped");
    REQUIRE_MESSAGE(stopped, rig.agent.log());
    CHECK_FALSE(ok_of(*stopped));
    CHECK(error_of(*stopped) == "component not running: echo");
    // Not recorded: the same request_id runs once the component runs again.
    REQUIRE(ok_of(rig.control("start", "echo", "n-start")));
    rig.client->clear();
    rig.echo_answers("n-stopped");

    REQUIRE(ok_of(
        rig.uninstall(R"({"request_id":"n-uninstall","component_id":"echo"})", "n-uninstall")));
    auto gone = rig.plugin_command("echo", "echo", request("n-gone"), "n-gone");
    REQUIRE_MESSAGE(gone, rig.agent.log());
    CHECK(error_of(*gone) == "component not found: echo");

    auto ghost = rig.plugin_command("ghost", "x", request("n-ghost"), "n-ghost");
    REQUIRE(ghost);
    CHECK(error_of(*ghost) == "component not found: ghost");
    // A malformed payload gets its parse error, as for a running component.
    auto bad = rig.plugin_command("ghost", "x", "{not json", "");
    REQUIRE(bad);
    CHECK(has_text(error_of(*bad), "invalid JSON"));
}

TEST_CASE("a backlog of slow commands is bounded, and an uninstall does not wait behind it") {
    const Artifact probe = artifact(LUCID_ITEST_PROBE);
    ComponentRig rig("deliver-3");
    rig.env["LUCID_PLUGIN_QUEUE_MAX"] = "30";
    rig.start_agent();
    REQUIRE(ok_of(rig.install("b-install", "probe", inline_source(probe))));
    REQUIRE(rig.wait_status("probe", "running", "1.0.0"));

    // 36 commands of 300 ms each: 11 s of work, more than a stop may wait (10 s).
    constexpr int kSent = 36;
    for (int i = 0; i < kSent; ++i) {
        rig.client->publish(rig.agent.topic("components/probe/cmd/count_slowly"),
                            request("b-" + std::to_string(i)));
    }
    const std::string results = rig.agent.topic("components/probe/evt/count_slowly_result");
    const auto busy = rig.client->wait_for_count(results, kSent - 31, [](const Message& m) {
        return error_of(m) == "busy: component queue full: probe";
    });
    // One runs, 30 wait, the rest is refused (one more when the first had not started yet).
    CHECK(busy.size() >= kSent - 31);
    CHECK(busy.size() <= kSent - 30);

    auto uninstall =
        rig.uninstall(R"({"request_id":"b-uninstall","component_id":"probe"})", "b-uninstall");
    CHECK(ok_of(uninstall));
    CHECK_FALSE(flag_of(uninstall, "restart_required"));
    // Every command has exactly one answer: its count, busy, or not run.
    const auto all = rig.client->wait_for_count(results, kSent, any_message());
    CHECK(all.size() == kSent);
    std::size_t not_run = 0;
    for (int i = 0; i < kSent; ++i) {
        CHECK(answers(rig, "components/probe/evt/count_slowly_result", "b-" + std::to_string(i)) ==
              1);
    }
    for (const auto& m : all) not_run += error_of(m) == "component not running: probe" ? 1 : 0;
    CHECK(not_run > 0);
}
