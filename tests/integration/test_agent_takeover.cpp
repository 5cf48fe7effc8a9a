// Two agents with one agent_id (cloned images): they must notice, say so in `status` and stop
// taking the connection from each other every reconnect delay.
#include <doctest/doctest.h>

#include <set>

#include "agent_harness.hpp"

using namespace lucid::itest;
using namespace std::chrono_literals;

namespace {

bool online(const Message& m) { return m.str("state") == "online"; }

}  // namespace

TEST_CASE("two agents with one agent_id stop fighting over the connection and say so") {
    Broker broker;
    broker.start();
    AgentHarness first(broker, "twin");
    AgentHarness second(broker, "twin");  // the same agent_id, a data directory of its own
    MqttClient client(broker.port());
    client.subscribe(first.topic("status"));
    // Left alone, two agents reconnecting after 20-40 ms would swap the connection ~30 times a
    // second; holding off, each waits the longest backoff.
    const std::map<std::string, std::string> env{{"LUCID_RECONNECT_MIN_MS", "20"},
                                                 {"LUCID_RECONNECT_MAX_MS", "1500"}};
    first.start(env);
    REQUIRE_MESSAGE(wait_online(client, first), first.log());
    second.start(env);

    std::set<std::string> in_conflict;
    auto both = client.wait_for(
        first.topic("status"),
        [&](const Message& m) {
            if (online(m) && !m.str("conflict").empty()) in_conflict.insert(m.str("instance"));
            return in_conflict.size() == 2;
        },
        20s);
    REQUIRE_MESSAGE(both, first.log() << second.log());
    CHECK(both->str("state") == "online");  // the state keeps its contract values
    CHECK_MESSAGE(
        both->str("conflict").rfind("another agent with this agent_id is online: instance ", 0) ==
            0,
        both->payload);
    for (auto* agent : {&first, &second}) {
        CHECK_MESSAGE(agent->log().find("two agents share agent_id 'twin'") != std::string::npos,
                      agent->log());
    }

    // From now on the connection changes hands about every 1.5 s, not 30 times a second.
    client.clear();
    const auto onlines = client.wait_for_count(first.topic("status"), 30, online, 4500ms);
    MESSAGE(onlines.size() << " online statuses in 4.5 s");
    CHECK(onlines.size() < 15);
}

TEST_CASE("the retained online status of a predecessor that died without its Will is no conflict") {
    Broker broker;
    broker.start();
    AgentHarness agent(broker, "reborn");
    MqttClient client(broker.port());
    // What a power cut leaves: the broker still holds the dead run's online status.
    client.publish(agent.topic("status"),
                   R"({"state":"online","agent_id":"reborn","instance":"00000000deadbeef",)"
                   R"("session":4})",
                   1, true);
    client.subscribe(agent.topic("#"));
    agent.start();
    auto status = client.wait_for(agent.topic("status"), [](const Message& m) {
        return online(m) && m.str("instance") != "00000000deadbeef";
    });
    REQUIRE_MESSAGE(status, agent.log());
    CHECK(status->json()["conflict"].IsNull());
    // Observed by now: the refresh result comes after the agent's subscription got the old one.
    REQUIRE(send_command(client, agent, "core/cmd/refresh", "core/evt/refresh_result",
                         R"({"request_id":"rf"})", "rf"));
    for (const auto& m : client.messages(agent.topic("status"))) {
        if (m.str("instance") != "00000000deadbeef") CHECK(m.json()["conflict"].IsNull());
    }
    CHECK(agent.log().find("share agent_id") == std::string::npos);
}
