// The record of answered request_ids survives an agent restart.
#include <doctest/doctest.h>

#include <signal.h>

#include "agent_harness.hpp"

using namespace lucid::itest;

TEST_CASE("a request_id answered before an agent restart is not executed again after it") {
    Broker broker;
    broker.start();
    AgentHarness agent(broker, "dedup-1");
    MqttClient client(broker.port());
    client.subscribe(agent.topic("#"));
    agent.start();
    REQUIRE_MESSAGE(wait_online(client, agent), agent.log());

    const std::string once = R"({"request_id":"once","set":{"heartbeat_s":11}})";
    auto first =
        send_command(client, agent, "core/cfg/set", "core/evt/cfg_set_result", once, "once");
    REQUIRE(first);
    CHECK(first->json()["ok"].GetBool());
    auto later = send_command(client, agent, "core/cfg/set", "core/evt/cfg_set_result",
                              R"({"request_id":"later","set":{"heartbeat_s":22}})", "later");
    REQUIRE(later);
    auto ping = send_command(client, agent, "core/cmd/ping", "core/evt/ping_result",
                             R"({"request_id":"ping-1"})", "ping-1");
    REQUIRE(ping);

    CHECK(agent.stop(SIGTERM) == 0);
    client.clear();
    agent.start();
    REQUIRE_MESSAGE(wait_online(client, agent, 1), agent.log());

    auto replay =
        send_command(client, agent, "core/cfg/set", "core/evt/cfg_set_result", once, "once");
    REQUIRE(replay);
    CHECK(replay->payload == first->payload);
    // Deferred records (ping) are flushed on a clean stop, so they survive too.
    auto ping_again = send_command(client, agent, "core/cmd/ping", "core/evt/ping_result",
                                   R"({"request_id":"ping-1"})", "ping-1");
    REQUIRE(ping_again);
    CHECK(ping_again->payload == ping->payload);

    client.clear();
    REQUIRE(send_command(client, agent, "core/cmd/refresh", "core/evt/refresh_result",
                         R"({"request_id":"rf"})", "rf"));
    auto cfg = client.wait_for(agent.topic("core/cfg/state"), any_message());
    REQUIRE(cfg);
    CHECK(cfg->json()["cfg"]["heartbeat_s"].GetInt() == 22);
}

TEST_CASE("a side-effecting command's record survives even a SIGKILL") {
    Broker broker;
    broker.start();
    AgentHarness agent(broker, "dedup-2");
    MqttClient client(broker.port());
    client.subscribe(agent.topic("#"));
    agent.start();
    REQUIRE_MESSAGE(wait_online(client, agent), agent.log());
    const std::string payload = R"({"request_id":"k1","set":{"heartbeat_s":12}})";
    auto first =
        send_command(client, agent, "core/cfg/set", "core/evt/cfg_set_result", payload, "k1");
    REQUIRE(first);
    agent.stop(SIGKILL);
    client.clear();
    agent.start();
    REQUIRE_MESSAGE(wait_online(client, agent, 1), agent.log());
    auto replay =
        send_command(client, agent, "core/cfg/set", "core/evt/cfg_set_result", payload, "k1");
    REQUIRE(replay);
    CHECK(replay->payload == first->payload);
}
