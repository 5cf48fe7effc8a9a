// lucidctl and the log over MQTT (contract §4.15, §9), beyond what test_agent_logs covers:
// `logs --follow` across the agent going offline and coming back, and `plugin log-level`.
#include <doctest/doctest.h>

#include <csignal>

#include "ctl_runner.hpp"
#include "logs_rig.hpp"

using namespace lucid::itest;

namespace {

// `lucidctl logs --follow` of logprobe, seen streaming a first line.
void start_following(LogsRig& rig, Process& follow, const TempDir& dir) {
    follow.start({LUCIDCTL_BIN, "logs", "--follow", "--component", "logprobe", "-n", "1"},
                 {{"LUCID_MQTT_URL", rig.broker.url()},
                  {"LUCID_AGENT_ID", rig.agent.agent_id()},
                  {"LUCID_ENV_FILE", "/dev/null"}},
                 dir.path() / "follow.log");
    REQUIRE(rig.client->wait_for(rig.agent.topic("core/evt/logs/stream_result"), any_message()));
    rig.plugin_logs("info", "before");
    REQUIRE_MESSAGE(wait_for_output(follow, "logprobe: before #0", std::chrono::seconds(10)),
                    follow.log());
}

}  // namespace

TEST_CASE(
    "lucidctl logs --follow says when the agent goes away, and streams again when it is back") {
    LogsRig rig("logs-away");
    Process follow;
    TempDir dir;
    start_following(rig, follow, dir);

    CHECK(rig.agent.stop(SIGTERM) == 0);
    CHECK_MESSAGE(
        wait_for_output(follow, "agent logs-away went offline at ", std::chrono::seconds(10)),
        follow.log());
    rig.client->clear();
    rig.start_agent();
    REQUIRE(rig.wait_status("logprobe", "running"));
    CHECK_MESSAGE(wait_for_output(follow, "agent logs-away is back online; asked for the stream",
                                  std::chrono::seconds(10)),
                  follow.log());
    // The restarted agent forgot the temporary stream: lucidctl asked again at once, well
    // before its 40 s renewal.
    REQUIRE(rig.client->wait_for(rig.agent.topic("core/evt/logs/stream_result"), any_message(),
                                 std::chrono::seconds(10)));
    rig.plugin_logs("info", "after");
    CHECK_MESSAGE(wait_for_output(follow, "logprobe: after #0", std::chrono::seconds(10)),
                  follow.log());
    // What the agent logged while lucidctl could not hear it (its boot) is back-filled, before
    // what streams after (a walk finding: the restart's lines were missing).
    const std::string out = follow.log();
    const auto back = out.find("is back online");
    const auto boot = out.find("logprobe: logprobe started", back);
    CHECK_MESSAGE(boot != std::string::npos, out);
    CHECK_MESSAGE(boot < out.find("logprobe: after #0", back), out);
    CHECK_MESSAGE(out.find("logprobe: logprobe started", boot + 1) == std::string::npos, out);
    follow.stop(SIGINT);
}

// A walk finding: lucidctl's own connection died with the broker and was never subscribed
// again, so `logs --follow` (and `top`) went silent for good while the agent was back.
TEST_CASE("lucidctl logs --follow streams again after the broker restarts") {
    LogsRig rig("logs-broker");
    Process follow;
    TempDir dir;
    start_following(rig, follow, dir);

    rig.client.reset();  // its connection dies with the broker
    rig.broker.restart();
    rig.client = std::make_unique<MqttClient>(rig.broker.port());
    rig.client->subscribe(rig.agent.topic("#"));
    REQUIRE_MESSAGE(wait_online(*rig.client, rig.agent, rig.session), rig.agent.log());
    CHECK_MESSAGE(wait_for_output(follow, "lucidctl: connected to the broker again",
                                  std::chrono::seconds(15)),
                  follow.log());
    // The agent kept its temporary stream (it did not restart); lucidctl hears it again.
    rig.plugin_logs("info", "after");
    CHECK_MESSAGE(wait_for_output(follow, "logprobe: after #0", std::chrono::seconds(15)),
                  follow.log());
    follow.stop(SIGINT);
}

TEST_CASE("lucidctl plugin log-level shows a component's own level and sets it") {
    LogsRig rig("logs-level");
    auto follows = run_ctl({"plugin", "log-level", "logprobe"}, rig.ctl_env);
    CHECK_MESSAGE(follows.code == 0, follows.output);
    CHECK_MESSAGE(follows.has("logprobe: the agent's levels (log_level INFO, logs_level info)\n"),
                  follows.output);

    rig.client->clear();
    // The agent's vocabulary in any case; sent canonical.
    auto set = run_ctl({"plugin", "log-level", "logprobe", "Warning"}, rig.ctl_env);
    CHECK_MESSAGE(set.code == 0, set.output);
    CHECK_MESSAGE(set.has("cfg/logging/set: ok  component_id=logprobe  log_level=warn\n"),
                  set.output);
    REQUIRE(rig.client->wait_for(rig.agent.topic("components/logprobe/status"),
                                 [](const Message& m) { return m.str("log_level") == "warn"; }));
    auto shown = run_ctl({"plugin", "log-level", "logprobe"}, rig.ctl_env);
    CHECK_MESSAGE(shown.has("logprobe: warn (its own level)\n"), shown.output);
    auto json = run_ctl({"plugin", "log-level", "logprobe", "--json"}, rig.ctl_env);
    REQUIRE(json.code == 0);
    CHECK(std::string(json.json()["log_level"].GetString()) == "warn");
    // plugin info shows it, and what only the component's status says: its lost messages.
    auto info = run_ctl({"plugin", "info", "logprobe"}, rig.ctl_env);
    CHECK_MESSAGE(info.has("log_level:    warn\n"), info.output);
    CHECK_MESSAGE(info.has("dropped_messages: 0\n"), info.output);
    CHECK_MESSAGE(info.has("duplicates_dropped: 0\n"), info.output);

    auto back = run_ctl({"plugin", "log-level", "logprobe", "default"}, rig.ctl_env);
    CHECK_MESSAGE(back.has("cfg/logging/set: ok  component_id=logprobe  log_level=default\n"),
                  back.output);
    auto info_after = run_ctl({"plugin", "info", "logprobe"}, rig.ctl_env);
    CHECK_MESSAGE(info_after.has("log_level:    the agent's (lucidctl plugin log-level logprobe"),
                  info_after.output);

    auto bad = run_ctl({"plugin", "log-level", "logprobe", "loud"}, rig.ctl_env);
    CHECK(bad.code == 2);
    CHECK_MESSAGE(bad.has("LEVEL must be one of trace, debug, info, warn, error (any case; "
                          "warning and err too), or default, got 'loud'"),
                  bad.output);
    auto none = run_ctl({"plugin", "log-level", "nosuch"}, rig.ctl_env);
    CHECK(none.code == 1);
    CHECK_MESSAGE(none.has("component not found: nosuch"), none.output);
    auto refused = run_ctl({"plugin", "log-level", "nosuch", "debug"}, rig.ctl_env);
    CHECK(refused.code == 1);
    CHECK_MESSAGE(refused.has("cfg/logging/set failed: component not found: nosuch"),
                  refused.output);
}
