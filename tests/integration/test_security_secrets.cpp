// Passwords never reach a log line or a payload: the agent runs with credentials in its broker
// URL (and the earlier agent's AGENT_PASSWORD), every message it publishes and everything it
// logs is searched for them.
#include <doctest/doctest.h>

#include <signal.h>

#include "agent_harness.hpp"

using namespace lucid::itest;

namespace {

constexpr const char* kPassword = "S3cr3t-Pa55w0rd";
constexpr const char* kEncoded = "S3cr3t-Pa55w0rd%21";  // "S3cr3t-Pa55w0rd!" percent-encoded

bool leaks(const std::string& text) { return text.find(kPassword) != std::string::npos; }

}  // namespace

TEST_CASE("the broker password appears in no payload and no log line") {
    Broker broker;  // anonymous: it accepts the credentials without checking them
    broker.start();
    MqttClient client(broker.port());
    client.subscribe("#");
    AgentHarness agent(broker, "secret-1");
    const std::string url =
        "mqtt://agent:" + std::string(kEncoded) + "@127.0.0.1:" + std::to_string(broker.port());
    agent.start({{"LUCID_MQTT_URL", url}});
    REQUIRE_MESSAGE(wait_online(client, agent), agent.log());

    // Exercise the paths that echo input back: results, errors, config.
    REQUIRE(send_command(client, agent, "core/cmd/ping", "core/evt/ping_result",
                         R"({"request_id":"p1"})", "p1"));
    REQUIRE(send_command(client, agent, "core/cfg/set", "core/evt/cfg_set_result",
                         R"({"request_id":"c1","set":{"log_level":"DEBUG"}})", "c1"));
    REQUIRE(send_command(client, agent, "core/cmd/refresh", "core/evt/refresh_result",
                         R"({"request_id":"r1"})", "r1"));
    CHECK(agent.stop(SIGTERM) == 0);

    const auto seen = client.all_messages();
    CHECK(seen.size() >= 8);  // snapshots, results, the offline status: the search had input
    for (const auto& m : seen) {
        CHECK_MESSAGE(!leaks(m.payload), m.topic);
    }
    const std::string log = agent.log();
    CHECK_FALSE(leaks(log));
    CHECK(log.find("agent:***@") != std::string::npos);  // the URL is logged, redacted

    auto [code, config] = run_to_completion(
        {LUCID_AGENT_BIN, "check-config"},
        {{"LUCID_MQTT_URL", url}, {"LUCID_ENV_FILE", "/dev/null"}, {"LUCID_AGENT_ID", "x"}});
    CHECK(code == 0);
    CHECK_FALSE(leaks(config));
    CHECK(config.find("***") != std::string::npos);
}

TEST_CASE("the earlier agent's AGENT_PASSWORD is redacted the same way") {
    auto [code, config] =
        run_to_completion({LUCID_AGENT_BIN, "check-config"}, {{"MQTT_HOST", "127.0.0.1"},
                                                              {"MQTT_PORT", "1883"},
                                                              {"AGENT_USERNAME", "legacy"},
                                                              {"AGENT_PASSWORD", kPassword},
                                                              {"LUCID_ENV_FILE", "/dev/null"},
                                                              {"LUCID_AGENT_ID", "x"}});
    CHECK(code == 0);
    CHECK_FALSE(leaks(config));
    CHECK(config.find("legacy") != std::string::npos);
}
