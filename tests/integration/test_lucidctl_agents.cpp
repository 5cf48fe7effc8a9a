// lucidctl agents and watch: the fleet as the broker holds it (sorted, last seen, conflicts),
// forgetting agents gone for good, and watch output a script or a person can use.
#include <doctest/doctest.h>

#include <signal.h>

#include "agent_harness.hpp"
#include "ctl_runner.hpp"

using namespace lucid::itest;

namespace {

// A retained status as an agent (or its Will) leaves it, published by the test.
std::string status_json(const std::string& id, const std::string& state, const std::string& ts,
                        const std::string& extra = "") {
    return R"({"schema":"lucid.core.v1.0.0","ts":")" + ts + R"(","state":")" + state +
           R"(","agent_id":")" + id + R"(","version":"0.9.0","session":3)" + extra + "}";
}

}  // namespace

TEST_CASE("agents: sorted by id, with last seen and a reported conflict") {
    Broker broker;
    broker.start();
    MqttClient client(broker.port());
    AgentHarness online{broker, "m-online"};
    client.subscribe("lucid/agents/#");
    online.start();
    REQUIRE(wait_online(client, online));
    client.publish("lucid/agents/z-gone/status",
                   status_json("z-gone", "offline", "2020-01-02T03:04:05.000Z"), 1, true);
    client.publish("lucid/agents/a-twin/status",
                   status_json("a-twin", "online", "2026-01-01T00:00:00.000Z",
                               R"(,"connected_since":"2026-01-01T00:00:00.000Z",)"
                               R"("conflict":"agent_id a-twin online as instance 42")"),
                   1, true);
    const std::map<std::string, std::string> env{{"LUCID_MQTT_URL", broker.url()}};

    const auto table = run_ctl({"agents"}, env);
    CHECK(table.code == 0);
    const auto a = table.output.find("a-twin");
    const auto m = table.output.find("m-online");
    const auto z = table.output.find("z-gone");
    REQUIRE(a != std::string::npos);
    REQUIRE(m != std::string::npos);
    REQUIRE(z != std::string::npos);
    CHECK(a < m);
    CHECK(m < z);
    CHECK(table.has("LAST SEEN"));
    CHECK(table.has("2020-01-02T03:04:05.000Z ("));
    CHECK(table.has("CONFLICT"));
    CHECK(table.has("agent_id a-twin online as instance 42"));

    auto json = run_ctl({"--json", "agents"}, env).json();
    REQUIRE(json.IsArray());
    REQUIRE(json.Size() == 3);
    REQUIRE(json[2].HasMember("last_seen"));
    CHECK(std::string(json[0]["agent_id"].GetString()) == "a-twin");
    CHECK(std::string(json[2]["last_seen"].GetString()) == "2020-01-02T03:04:05.000Z");
}

TEST_CASE("agents shows health and components, sorts, and fleet counts across the selection") {
    Broker broker;
    broker.start();
    MqttClient client(broker.port());
    client.subscribe("lucid/agents/#");
    AgentHarness gone{broker, "f-a"};   // first by id, offline
    AgentHarness busy{broker, "f-b"};   // echo installed
    AgentHarness other{broker, "f-c"};  // another site
    gone.start({{"LUCID_LABELS", "site=x"}});
    busy.start({{"LUCID_LABELS", "site=x"}});
    other.start({{"LUCID_LABELS", "site=y"}});
    REQUIRE(wait_online(client, gone));
    REQUIRE(wait_online(client, busy));
    REQUIRE(wait_online(client, other));
    REQUIRE(gone.stop(SIGTERM) == 0);
    const std::map<std::string, std::string> env{{"LUCID_MQTT_URL", broker.url()},
                                                 {"LUCID_AGENT_ID", "f-b"}};
    const auto install = run_ctl({"plugin", "install", LUCID_ITEST_ECHO_1_0}, env);
    REQUIRE_MESSAGE(install.code == 0, install.output);

    const auto table = run_ctl({"agents", "--select", "site=x"}, env);
    CHECK_MESSAGE(table.code == 0, table.output);
    CHECK(table.has("HEALTH"));
    CHECK(table.has("COMPONENTS"));
    CHECK_FALSE(table.has("f-c"));
    const auto row = table.output.substr(table.output.find("f-b"));
    CHECK_MESSAGE(row.find("running") < row.find('\n'), table.output);
    CHECK_MESSAGE(row.find("  1  ") < row.find('\n'), table.output);  // one component
    const auto gone_row = table.output.substr(table.output.find("f-a"));
    // Offline: its core/state is its last word, shown as such.
    CHECK_MESSAGE(gone_row.find("(running)") < gone_row.find('\n'), table.output);

    // Online first: f-b before f-a, which the id order has the other way round.
    const auto by_state = run_ctl({"agents", "--select", "site=x", "--sort", "state"}, env);
    CHECK(by_state.output.find("f-b") < by_state.output.find("f-a"));
    const auto bad_sort = run_ctl({"agents", "--sort", "stat"}, env);
    CHECK(bad_sort.code == 2);
    CHECK_MESSAGE(bad_sort.has("unknown --sort key 'stat' (did you mean 'state'?)"),
                  bad_sort.output);

    auto listed = run_ctl({"--json", "agents", "--sort", "components"}, env).json();
    REQUIRE(listed.IsArray());
    REQUIRE(listed.Size() == 3);
    CHECK(std::string(listed[0]["agent_id"].GetString()) == "f-b");
    CHECK(std::string(listed[0]["components"]["echo"]["version"].GetString()) == "1.0.0");
    CHECK(std::string(listed[0]["health"].GetString()) == "running");

    const auto fleet = run_ctl({"fleet", "--select", "site=x"}, env);
    CHECK_MESSAGE(fleet.code == 0, fleet.output);
    CHECK_MESSAGE(fleet.has("2 agent(s): 1 online, 1 offline, 0 degraded"), fleet.output);
    CHECK(fleet.has("AGENT VERSION"));
    CHECK(fleet.has("DESIRED STATE"));
    auto summary = run_ctl({"--json", "agents", "--summary"}, env).json();
    CHECK(summary["agents"].GetUint() == 3);
    CHECK(summary["online"].GetUint() == 2);
    REQUIRE(summary["components"].Size() == 1);
    CHECK(std::string(summary["components"][0]["component"].GetString()) == "echo");
    CHECK(std::string(summary["components"][0]["state"].GetString()) == "running");
    CHECK(summary["components"][0]["agents"].GetUint() == 1);
    CHECK(summary["deployments"]["none"].GetUint() == 3);
    CHECK(run_ctl({"fleet", "--sort", "state"}, env).code == 2);
}

TEST_CASE("agents --prune and agents forget clear agents gone for good, not live ones") {
    Broker broker;
    broker.start();
    MqttClient client(broker.port());
    AgentHarness online{broker, "p-online"};
    AgentHarness recent{broker, "p-recent"};
    client.subscribe("lucid/agents/#");
    online.start();
    recent.start();
    REQUIRE(wait_online(client, online));
    REQUIRE(wait_online(client, recent));
    recent.stop(SIGTERM);  // offline just now: kept by a 7-day prune
    client.publish("lucid/agents/p-old/status",
                   status_json("p-old", "offline", "2020-01-02T03:04:05.000Z"), 1, true);
    client.publish("lucid/agents/p-old/core/state", R"({"ts":"2020-01-02T03:04:05.000Z"})", 1,
                   true);
    const std::map<std::string, std::string> env{{"LUCID_MQTT_URL", broker.url()}};

    const auto prune = run_ctl({"agents", "--prune"}, env);
    CHECK_MESSAGE(prune.code == 0, prune.output);
    CHECK(prune.has("forgot p-old (offline since 2020-01-02T03:04:05.000Z"));
    auto left = run_ctl({"agents"}, env);
    CHECK_FALSE(left.has("p-old"));
    CHECK(left.has("p-online"));
    CHECK(left.has("p-recent"));

    CHECK(run_ctl({"agents", "--prune", "--older-than", "soon"}, env).code == 2);
    const auto live = run_ctl({"agents", "forget", "p-online"}, env);
    CHECK(live.code == 1);
    CHECK(live.has("agent p-online is online: not forgetting it"));
    auto forget = run_ctl({"--json", "agents", "forget", "p-recent"}, env).json();
    CHECK(forget["ok"].GetBool());
    CHECK(std::string(forget["forgotten"][0].GetString()) == "p-recent");
    CHECK_FALSE(run_ctl({"agents"}, env).has("p-recent"));
    CHECK(run_ctl({"agents", "forget", "nobody"}, env).code == 1);
}

TEST_CASE("watch --json embeds JSON payloads and stamps each message with its arrival") {
    Broker broker;
    broker.start();
    MqttClient client(broker.port());
    AgentHarness agent{broker, "w-1"};
    client.subscribe(agent.topic("#"));
    agent.start();
    REQUIRE(wait_online(client, agent));
    client.publish(agent.topic("components/x/evt/text"), "plain text", 1, true);
    TempDir dir;
    Process watch;
    watch.start({LUCIDCTL_BIN, "--json", "watch"},
                {{"LUCID_MQTT_URL", broker.url()},
                 {"LUCID_AGENT_ID", "w-1"},
                 {"LUCID_ENV_FILE", "/dev/null"}},
                dir / "watch.log");
    REQUIRE_MESSAGE(wait_for_output(watch, R"("payload":"plain text")", std::chrono::seconds(10)),
                    watch.log());
    REQUIRE_MESSAGE(wait_for_output(watch, R"(/core/cfg/state")", std::chrono::seconds(10)),
                    watch.log());
    watch.stop(SIGTERM);
    const std::string output = watch.log();
    bool saw_object = false;
    std::size_t start = 0;
    while (start < output.size()) {
        const auto end = output.find('\n', start);
        const std::string line = output.substr(start, end - start);
        start = end == std::string::npos ? output.size() : end + 1;
        if (line.empty()) continue;
        rapidjson::Document doc;
        doc.Parse(line.c_str());
        REQUIRE_MESSAGE(!doc.HasParseError(), line);
        REQUIRE_MESSAGE(doc.HasMember("received"), line);
        REQUIRE(doc["received"].IsString());
        CHECK(std::string(doc["received"].GetString()).back() == 'Z');
        if (doc["payload"].IsObject() && doc["payload"].HasMember("cfg")) saw_object = true;
    }
    CHECK_MESSAGE(saw_object, output);
}

TEST_CASE("watch prints a timestamp first and shows control characters of payloads as '?'") {
    Broker broker;
    broker.start();
    MqttClient client(broker.port());
    AgentHarness agent{broker, "w-2"};
    client.subscribe(agent.topic("#"));
    agent.start();
    REQUIRE(wait_online(client, agent));
    // A broker user's payload that would drive the operator's terminal: an OSC 52 clipboard
    // write and a cursor move, with the 8-bit CSI (U+009B) too.
    client.publish(agent.topic("components/x/evt/text"),
                   "before\x1b]52;c;ZXZpbA==\x07\x1b[2Kafter\xc2\x9bZ", 1, true);
    TempDir dir;
    Process watch;
    watch.start({LUCIDCTL_BIN, "watch"},
                {{"LUCID_MQTT_URL", broker.url()},
                 {"LUCID_AGENT_ID", "w-2"},
                 {"LUCID_ENV_FILE", "/dev/null"}},
                dir / "watch.log");
    REQUIRE_MESSAGE(wait_for_output(watch, "after", std::chrono::seconds(10)), watch.log());
    watch.stop(SIGTERM);
    const std::string output = watch.log();
    CHECK_MESSAGE(output.find('\x1b') == std::string::npos, output);
    CHECK_MESSAGE(output.find("\xc2\x9b") == std::string::npos, output);
    CHECK_MESSAGE(output.find("before?]52;c;ZXZpbA==??[2Kafter?Z") != std::string::npos, output);
    // Each line: the arrival time (UTC, ISO 8601), the topic, whether retained, the payload.
    const auto line_start = output.rfind('\n', output.find("before?]52")) + 1;
    const std::string line = output.substr(line_start, output.find('\n', line_start) - line_start);
    CAPTURE(line);
    REQUIRE(line.size() > 25);
    CHECK(line[4] == '-');
    CHECK(line[10] == 'T');
    CHECK(line.find("Z " + agent.topic("components/x/evt/text") + " (retained) before") !=
          std::string::npos);
}

TEST_CASE("status and config get show what the broker holds as text, with degraded reasons") {
    Broker broker;
    broker.start();
    MqttClient client(broker.port());
    // Retained messages a hostile broker user left for agent "evil".
    client.publish("lucid/agents/evil/status",
                   status_json("evil", "online", "2026-01-01T00:00:00.000Z",
                               R"(,"connected_since":"2026-01-01T00:00:00.000Z",)"
                               R"("conflict":"\u001b]52;c;ZWNobyBoaQ==\u0007 \u001b[5mboo")"),
                   1, true);
    client.publish("lucid/agents/evil/core/state",
                   R"({"ts":"2026-01-01T00:00:00.000Z","state":"degraded","components_running":0,)"
                   R"("components_failed":0,"degraded_reasons":["data directory read-only: /x",)"
                   R"("\u001b[31mred"]})",
                   1, true);
    client.publish("lucid/agents/evil/core/cfg/state",
                   R"({"cfg":{"heartbeat_s":30,"x\u001b[31m":"\u001b[2Jv"}})", 1, true);
    const std::map<std::string, std::string> env{{"LUCID_MQTT_URL", broker.url()},
                                                 {"LUCID_AGENT_ID", "evil"},
                                                 {"LUCID_ENV_FILE", "/dev/null"}};
    const auto status = run_ctl({"status"}, env);
    CHECK_MESSAGE(status.output.find('\x1b') == std::string::npos, status.output);
    CHECK(status.has("conflict:   ?]52;c;ZWNobyBoaQ==? ?[5mboo"));
    CHECK(status.has("degraded:   data directory read-only: /x"));
    CHECK(status.has("degraded:   ?[31mred"));
    const auto config = run_ctl({"config", "get"}, env);
    CHECK_MESSAGE(config.output.find('\x1b') == std::string::npos, config.output);
    CHECK(config.has("x?[31m=?[2Jv"));
}
