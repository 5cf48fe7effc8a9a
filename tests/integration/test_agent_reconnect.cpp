// Broker restart: the agent reconnects by itself, republishes its snapshots, and executes
// exactly once the commands that were queued for it while it was away.
#include <doctest/doctest.h>

#include <signal.h>

#include "agent_harness.hpp"

using namespace lucid::itest;

TEST_CASE("after a broker restart snapshots come back and queued commands run once") {
    Broker broker(/*persistence=*/true);
    broker.start();
    AgentHarness agent(broker, "reco-1");
    {
        MqttClient client(broker.port());
        client.subscribe(agent.topic("status"));
        agent.start();
        REQUIRE_MESSAGE(wait_online(client, agent), agent.log());
    }

    // Freeze the agent so that it is certainly disconnected while commands are sent, then
    // restart the broker (it keeps the agent's persistent session and subscriptions).
    agent.process().signal(SIGSTOP);
    broker.restart();

    MqttClient client(broker.port());
    client.subscribe(agent.topic("#"));
    client.publish(agent.topic("core/cfg/set"),
                   R"({"request_id":"while-away","set":{"heartbeat_s":17}})");
    client.publish(agent.topic("core/cmd/ping"), R"({"request_id":"ping-away"})");
    agent.process().signal(SIGCONT);

    auto status = wait_online(client, agent, 1);
    const std::string logs = agent.log() + "\n--- broker ---\n" + broker.log();
    REQUIRE_MESSAGE(status, logs);
    CHECK(session_of(*status) == 2);
    auto result =
        client.wait_for(agent.topic("core/evt/cfg_set_result"), with_request_id("while-away"));
    REQUIRE_MESSAGE(result, agent.log());
    CHECK(result->json()["ok"].GetBool());
    REQUIRE(client.wait_for(agent.topic("core/evt/ping_result"), with_request_id("ping-away")));
    for (const char* suffix :
         {"core/metadata", "core/state", "core/components", "core/cfg/state"}) {
        CHECK_MESSAGE(client.wait_for(agent.topic(suffix), any_message()), suffix);
    }

    // Executed once: a round trip later there is still exactly one result for it.
    REQUIRE(send_command(client, agent, "core/cmd/ping", "core/evt/ping_result",
                         R"({"request_id":"sync"})", "sync"));
    int answers = 0;
    for (const auto& m : client.messages(agent.topic("core/evt/cfg_set_result"))) {
        answers += m.str("request_id") == "while-away";
    }
    CHECK(answers == 1);
    auto cfg = client.wait_for(agent.topic("core/cfg/state"), [](const Message& m) {
        return m.payload.find("\"heartbeat_s\":17") != std::string::npos;
    });
    CHECK(cfg);
}
