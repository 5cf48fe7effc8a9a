// The heartbeat republishes status every heartbeat_s, and cfg/set changes the period live.
#include <doctest/doctest.h>

#include "agent_harness.hpp"

using namespace lucid::itest;

TEST_CASE("cfg/set heartbeat_s 5 makes status come every 5 s") {
    Broker broker;
    broker.start();
    AgentHarness agent(broker, "hb-1");
    MqttClient client(broker.port());
    client.subscribe(agent.topic("#"));
    agent.start();
    REQUIRE_MESSAGE(wait_online(client, agent), agent.log());

    auto result = send_command(client, agent, "core/cfg/set", "core/evt/cfg_set_result",
                               R"({"request_id":"hb","set":{"heartbeat_s":5}})", "hb");
    REQUIRE(result);
    REQUIRE(result->json()["ok"].GetBool());
    const auto set_at = result->received;

    // With the default 30 s nothing would come for half a minute; with 5 s, two beats arrive
    // about 5 s apart. The predicate counts beats published after the change.
    const auto status_topic = agent.topic("status");
    const auto beats = client.wait_for_count(
        status_topic, 2,
        [&](const Message& m) { return m.received > set_at && m.str("state") == "online"; },
        std::chrono::seconds(13));
    REQUIRE(beats.size() >= 2);
    const auto gap = beats[1].received - beats[0].received;
    CHECK(gap > std::chrono::milliseconds(4000));
    CHECK(gap < std::chrono::milliseconds(6500));
    CHECK(beats[0].received - set_at < std::chrono::milliseconds(6500));
}
