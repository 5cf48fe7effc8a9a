// ABI 1.1 through a real agent and broker, in-process and in process isolation (the runner's
// protocol 3 carries both functions): a plugin's publish_metric readings, governed by
// telemetry.components.<cid>.<metric> and the master switch as the agent's own metrics are
// (off by default; enable, interval, threshold, disable), on components/{cid}/telemetry/{metric}
// in the agent's envelope; and a de-duplicated subscription that handles an envelope delivered
// twice once, counting it in duplicates_dropped of components/{cid}/status, while a plain one
// beside it gets both copies. The plugin: plugins/metric_probe.cpp.
#include <doctest/doctest.h>

#include "component_rig.hpp"
#include "ctl_runner.hpp"

using namespace lucid::itest;

namespace {

const std::string kModes[] = {"in_process", "process"};

struct ProbeRig : ComponentRig {
    explicit ProbeRig(const std::string& agent_id, const std::string& isolation)
        : ComponentRig(agent_id) {
        start_agent();
        client->subscribe("itest/#");
        auto installed = install(install_payload("install-probe", "metricprobe",
                                                 inline_source(artifact(LUCID_ITEST_METRIC_PROBE)),
                                                 R"(,"isolation":")" + isolation + "\""),
                                 "install-probe");
        REQUIRE_MESSAGE(ok_of(installed), installed.payload << agent.log());
        REQUIRE(wait_status("metricprobe", "running"));
    }

    std::string topic(const std::string& suffix) const {
        return agent.topic("components/metricprobe/" + suffix);
    }
    // A core/cfg/set of `set` (a JSON object text).
    void configure(const std::string& set, const std::string& request_id) {
        auto result =
            command("core/cfg/set", "core/evt/cfg_set_result",
                    R"({"request_id":")" + request_id + R"(","set":)" + set + "}", request_id);
        REQUIRE_MESSAGE(ok_of(result), result.payload);
    }
    std::vector<Message> metric(const std::string& name) {
        return client->messages(topic("telemetry/" + name));
    }
    std::vector<Message> wait_metric(const std::string& name, std::size_t count) {
        return client->wait_for_count(topic("telemetry/" + name), count, any_message(),
                                      std::chrono::seconds(15));
    }
    // Lets `ticks` more of the plugin's 100 ms timer pass: what a metric that stays silent
    // meanwhile had every chance to publish.
    void let_ticks_pass(std::size_t ticks) {
        const auto seen = client->messages(topic("clock")).size();
        REQUIRE(client
                    ->wait_for_count(topic("clock"), seen + ticks, any_message(),
                                     std::chrono::seconds(20))
                    .size() >= seen + ticks);
    }
    void set_level(double value, const std::string& request_id) {
        auto answer = plugin_command(
            "metricprobe", "set",
            R"({"request_id":")" + request_id + R"(","value":)" + std::to_string(value) + "}",
            request_id);
        REQUIRE(answer);
        REQUIRE(ok_of(*answer));
    }
};

double value_of(const Message& m) { return m.json()["data"]["value"].GetDouble(); }

}  // namespace

TEST_CASE("a plugin's metric: off by default, then enabled, its interval, threshold and off") {
    for (const std::string& mode : kModes) {
        CAPTURE(mode);
        ProbeRig rig("ptele-" + mode, mode);
        // The plugin offers both metrics ten times a second; neither is on, although
        // telemetry_enabled is.
        rig.let_ticks_pass(10);
        CHECK(rig.metric("ticks").empty());
        CHECK(rig.metric("level").empty());

        // Enabled through lucidctl, as an operator does: 1 s apart at most once, although the
        // plugin offers ten a second.
        const auto on = run_ctl(
            {"config", "set", "telemetry.components.metricprobe.ticks.enabled=true",
             "telemetry.components.metricprobe.ticks.interval_s=1"},
            {{"LUCID_MQTT_URL", rig.broker.url()}, {"LUCID_AGENT_ID", rig.agent.agent_id()}});
        REQUIRE_MESSAGE(on.code == 0, on.output << rig.agent.log());
        const auto ticks = rig.wait_metric("ticks", 3);
        REQUIRE_MESSAGE(ticks.size() >= 3, rig.agent.log());
        for (std::size_t i = 1; i < ticks.size(); ++i) {
            // Ten offers a second, one published: consecutive values are several ticks apart.
            CHECK(value_of(ticks[i]) - value_of(ticks[i - 1]) >= 3);
        }
        const auto doc = ticks.front().json();
        CHECK_FALSE(ticks.front().retain);
        CHECK(std::string(doc["type"].GetString()) == "ticks");
        CHECK(std::string(doc["source"].GetString()) == rig.topic("telemetry"));
        CHECK(doc["id"].IsString());
        CHECK(doc["ts"].IsString());
        CHECK(doc["correlation_id"].IsNull());
        CHECK(doc["data"]["value"].IsInt64());
        CHECK(std::string(doc["data"]["unit"].GetString()) == "ticks");
        CHECK(rig.metric("level").empty());  // still off

        // A threshold: with a day-long interval only the first value, and the moves of at
        // least 10 % of the value last published, go out.
        rig.set_level(100, "set-100");
        rig.configure(R"({"telemetry":{"components":{"metricprobe":{"level":{"enabled":true,
            "interval_s":86400,"change_threshold_percent":10}}}}})",
                      "cfg-level");
        REQUIRE(rig.wait_metric("level", 1).size() == 1);
        CHECK(value_of(rig.metric("level")[0]) == 100);
        rig.set_level(105, "set-105");  // 5 %: not enough
        rig.let_ticks_pass(15);
        CHECK(rig.metric("level").size() == 1);
        rig.set_level(150, "set-150");  // 50 %: early
        REQUIRE(rig.wait_metric("level", 2).size() == 2);
        CHECK(value_of(rig.metric("level")[1]) == 150);

        // Off again: nothing more of it while ticks go on; the master switch silences both.
        rig.configure(R"({"telemetry":{"components":{"metricprobe":{"level":{"enabled":false}}}}})",
                      "cfg-level-off");
        rig.set_level(900, "set-900");
        rig.let_ticks_pass(15);
        CHECK(rig.metric("level").size() == 2);
        rig.configure(R"({"telemetry_enabled":false})", "cfg-master-off");
        const auto ticks_before = rig.metric("ticks").size();
        rig.let_ticks_pass(15);
        CHECK(rig.metric("ticks").size() == ticks_before);
        rig.configure(R"({"telemetry_enabled":true})", "cfg-master-on");
        CHECK_MESSAGE(rig.wait_metric("ticks", ticks_before + 1).size() > ticks_before,
                      rig.agent.log());

        // core/cfg/state shows what was set (the last one, published before the last result).
        const auto states = rig.client->messages(rig.agent.topic("core/cfg/state"));
        REQUIRE_FALSE(states.empty());
        const auto cfg = states.back().json();
        const auto& probe = cfg["cfg"]["telemetry"]["components"]["metricprobe"];
        CHECK(probe["ticks"]["enabled"].GetBool());
        CHECK(probe["ticks"]["interval_s"].GetInt() == 1);
        CHECK_FALSE(probe["level"]["enabled"].GetBool());
        CHECK(probe["level"]["change_threshold_percent"].GetDouble() == 10);
    }
}

TEST_CASE("a metric name the host refuses is said once in the agent's log, with the rule") {
    // A walk finding: a bad name was a bare lucid_status every tick.
    for (const std::string& mode : kModes) {
        CAPTURE(mode);
        ProbeRig rig("pbadname-" + mode, mode);
        auto answer =
            rig.plugin_command("metricprobe", "bad_metric", R"({"request_id":"bad-1"})", "bad-1");
        REQUIRE(answer);
        CHECK_MESSAGE(answer->payload.find("\"refused\":3") != std::string::npos, answer->payload);
        const std::string said =
            "publish_metric refused 'Temp.C': a metric name is [a-z0-9][a-z0-9_-]{0,63} (said "
            "once per name)";
        const std::string log = rig.agent.log();
        const auto first = log.find(said);
        CHECK_MESSAGE(first != std::string::npos, log);
        CHECK_MESSAGE(log.find(said, first + 1) == std::string::npos, log);
    }
}

TEST_CASE("a duplicate envelope delivered twice is handled once and counted in the status") {
    for (const std::string& mode : kModes) {
        CAPTURE(mode);
        ProbeRig rig("pdedup-" + mode, mode);
        auto envelope = [](const std::string& id) {
            return R"({"id":")" + id +
                   R"(","type":"order","ts":"2026-12-01T00:00:00.000Z","source":"site",)"
                   R"("correlation_id":null,"data":{"n":1}})";
        };
        // QoS 1 redelivered after a reconnect looks like this: the same envelope again. A
        // payload without an envelope id is never taken for a duplicate.
        for (const auto& payload : {envelope("e-1"), envelope("e-1"), std::string("raw"),
                                    std::string("raw"), envelope("e-2")}) {
            rig.client->publish("itest/dedup/in", payload);
        }
        const auto plain = rig.client->wait_for_count(rig.topic("seen/plain"), 5, any_message());
        REQUIRE_MESSAGE(plain.size() == 5, rig.agent.log());
        // e-2 is the last: once it is seen, everything before it was handled.
        REQUIRE(rig.client->wait_for(rig.topic("seen/dedup"), [&](const Message& m) {
            return m.payload == envelope("e-2");
        }));
        const auto dedup = rig.client->messages(rig.topic("seen/dedup"));
        REQUIRE(dedup.size() == 4);
        CHECK(dedup[0].payload == envelope("e-1"));
        CHECK(dedup[1].payload == "raw");
        CHECK(dedup[2].payload == "raw");
        CHECK(dedup[3].payload == envelope("e-2"));

        auto status = rig.client->wait_for(rig.topic("status"), [](const Message& m) {
            return uint_field(m.payload, "duplicates_dropped") == 1;
        });
        REQUIRE_MESSAGE(status, rig.agent.log());
        CHECK(status->str("state") == "running");
        CHECK(uint_field(status->payload, "dropped_messages") == 0);
    }
}
