// Boot snapshots, clean shutdown, the Will after SIGKILL, and the CLI entry points.
#include <doctest/doctest.h>

#include <signal.h>

#include "agent_harness.hpp"

using namespace lucid::itest;

namespace {

const char* kSchema = "lucid.core.v1.0.0";

void check_envelope(const Message& m) {
    auto doc = m.json();
    CHECK(std::string(doc["schema"].GetString()) == kSchema);
    const std::string ts = doc["ts"].GetString();
    CHECK(ts.size() == 24);
    CHECK(ts.back() == 'Z');
}

}  // namespace

TEST_CASE("on boot the agent publishes every retained snapshot") {
    Broker broker;
    broker.start();
    AgentHarness agent(broker, "boot-1");
    MqttClient client(broker.port());
    client.subscribe(agent.topic("#"));
    agent.start();

    auto status = wait_online(client, agent);
    REQUIRE_MESSAGE(status, agent.log());
    check_envelope(*status);
    auto s = status->json();
    CHECK(std::string(s["agent_id"].GetString()) == "boot-1");
    CHECK(s["session"].GetUint64() == 1);
    CHECK(s["connected_since"].IsString());
    CHECK(s["uptime_s"].IsNumber());
    CHECK(s["version"].IsString());

    auto meta = client.wait_for(agent.topic("core/metadata"), any_message());
    REQUIRE(meta);
    check_envelope(*meta);
    for (const char* key : {"agent_id", "version", "platform", "arch", "hostname", "plugin_abi"}) {
        CHECK(meta->json().HasMember(key));
    }
    auto state = client.wait_for(agent.topic("core/state"), any_message());
    REQUIRE(state);
    CHECK(state->str("state") == "running");
    CHECK(state->json()["components_failed"].GetUint() == 0);
    auto components = client.wait_for(agent.topic("core/components"), any_message());
    REQUIRE(components);
    CHECK(components->json()["count"].GetUint() == 0);
    CHECK(components->json()["components"].IsObject());
    auto cfg = client.wait_for(agent.topic("core/cfg/state"), any_message());
    REQUIRE(cfg);
    CHECK(cfg->json()["cfg"]["heartbeat_s"].GetInt() == 30);

    // A late subscriber sees them too: they are retained.
    MqttClient late(broker.port());
    late.subscribe(agent.topic("#"));
    for (const char* suffix :
         {"status", "core/metadata", "core/state", "core/components", "core/cfg/state"}) {
        auto m = late.wait_for(agent.topic(suffix), any_message());
        REQUIRE_MESSAGE(m, suffix);
        CHECK(m->retain);
    }
}

TEST_CASE("SIGTERM publishes offline status before disconnecting and exits 0") {
    Broker broker;
    broker.start();
    AgentHarness agent(broker, "term-1");
    MqttClient client(broker.port());
    client.subscribe(agent.topic("status"));
    agent.start();
    REQUIRE_MESSAGE(wait_online(client, agent), agent.log());
    CHECK(agent.stop(SIGTERM) == 0);
    auto offline = client.wait_for(agent.topic("status"),
                                   [](const Message& m) { return m.str("state") == "offline"; });
    REQUIRE_MESSAGE(offline, agent.log());
    CHECK(session_of(*offline) == 1);
    CHECK(offline->str("agent_id") == "term-1");
}

TEST_CASE("after SIGKILL the broker publishes the Will: offline with the session number") {
    Broker broker;
    broker.start();
    AgentHarness agent(broker, "will-1");
    MqttClient client(broker.port());
    client.subscribe(agent.topic("status"));
    agent.start();
    REQUIRE_MESSAGE(wait_online(client, agent), agent.log());
    agent.stop(SIGKILL);
    auto will = client.wait_for(agent.topic("status"),
                                [](const Message& m) { return m.str("state") == "offline"; });
    REQUIRE(will);
    CHECK(will->str("agent_id") == "will-1");
    CHECK(session_of(*will) == 1);
    CHECK(will->str("version").size() > 0);
    CHECK(will->str("schema") == kSchema);

    // The next run is session 2, in status and in its Will.
    client.clear();
    agent.start();
    REQUIRE_MESSAGE(wait_online(client, agent, 1), agent.log());
    agent.stop(SIGKILL);
    auto second = client.wait_for(agent.topic("status"),
                                  [](const Message& m) { return m.str("state") == "offline"; });
    REQUIRE(second);
    CHECK(session_of(*second) == 2);
}

TEST_CASE(
    "the CLI prints its version, checks config with the password redacted, refuses bad values") {
    auto [code, out] = run_to_completion({LUCID_AGENT_BIN, "--version"}, {});
    CHECK(code == 0);
    CHECK(out.rfind("lucid-agent ", 0) == 0);

    std::tie(code, out) = run_to_completion({LUCID_AGENT_BIN, "check-config"},
                                            {{"LUCID_MQTT_URL", "mqtt://dev:s3cr%40t@broker:1884"},
                                             {"LUCID_AGENT_ID", "cfg-1"},
                                             {"LUCID_DATA_DIR", "/tmp/x"},
                                             {"LUCID_ENV_FILE", "/dev/null"}});
    CHECK(code == 0);
    CHECK(out.find("s3cr") == std::string::npos);
    CHECK(out.find("mqtt://dev:***@broker:1884") != std::string::npos);
    CHECK(out.find("cfg-1") != std::string::npos);

    std::tie(code, out) =
        run_to_completion({LUCID_AGENT_BIN, "check-config"},
                          {{"LUCID_AGENT_ID", "Bad/Id"}, {"LUCID_ENV_FILE", "/dev/null"}});
    CHECK(code == 2);
    CHECK(out.find("validation_error: agent_id 'Bad/Id' is invalid") != std::string::npos);

    std::tie(code, out) = run_to_completion({LUCID_AGENT_BIN, "--no-such-flag"}, {});
    CHECK(code == 2);
    std::tie(code, out) =
        run_to_completion({LUCID_AGENT_BIN, "check-config", "--env-file", "/nonexistent.env"}, {});
    CHECK(code == 2);
    CHECK(out.find("/nonexistent.env") != std::string::npos);
}
