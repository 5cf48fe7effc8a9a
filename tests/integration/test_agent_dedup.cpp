// The record of answered request_ids survives an agent restart.
#include <doctest/doctest.h>

#include <signal.h>

#include <filesystem>

#include "agent_harness.hpp"
#include "component_rig.hpp"

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

TEST_CASE("a plugin command answered right before a SIGKILL is not run again after the restart") {
    // The probe plugin's `count` answers how many times it ran: a second run would show.
    const Artifact probe = artifact(LUCID_ITEST_PROBE);
    ComponentRig rig("dedup-plugin");
    rig.start_agent();
    REQUIRE(ok_of(rig.install("probe-install", "probe", inline_source(probe))));
    REQUIRE(rig.wait_status("probe", "running"));

    const std::string once = R"({"request_id":"count-once"})";
    auto first = rig.plugin_command("probe", "count", once, "count-once");
    REQUIRE_MESSAGE(first, rig.agent.log());
    CHECK(first->json()["count"].GetInt() == 1);
    rig.agent.stop(SIGKILL);  // as soon as the answer is seen

    rig.client->clear();
    rig.start_agent();
    REQUIRE(rig.wait_status("probe", "running"));
    auto replay = rig.plugin_command("probe", "count", once, "count-once");
    REQUIRE_MESSAGE(replay, rig.agent.log());
    CHECK(replay->payload == first->payload);
    // The restarted plugin counts from 0: had the replay run, this would be its second run.
    auto next =
        rig.plugin_command("probe", "count", R"({"request_id":"count-next"})", "count-next");
    REQUIRE(next);
    CHECK(next->json()["count"].GetInt() == 1);
}

TEST_CASE("results of any size keep the request log small; a large one replays truncated") {
    const Artifact echo = artifact(LUCID_ITEST_ECHO_1_0);
    ComponentRig rig("dedup-bytes");
    rig.start_agent();
    REQUIRE(ok_of(rig.install("echo-install", "echo", inline_source(echo))));
    REQUIRE(rig.wait_status("echo", "running"));

    const std::string big(1 << 20, 'm');
    for (int i = 0; i < 8; ++i) {
        const std::string id = "big-" + std::to_string(i);
        auto answer = rig.plugin_command(
            "echo", "echo", R"({"request_id":")" + id + R"(","message":")" + big + "\"}", id);
        REQUIRE_MESSAGE(answer, rig.agent.log());
        CHECK(answer->payload.size() > big.size());  // the first answer goes out whole
    }
    const auto log_file = rig.data() / "request_log.json";
    CHECK(std::filesystem::file_size(log_file) <= (1u << 20) + 64);

    // A small result replays byte for byte, also after a restart; the large one as truncated.
    auto small = rig.plugin_command("echo", "echo", R"({"request_id":"small"})", "small");
    REQUIRE(small);
    REQUIRE(rig.agent.stop(SIGTERM) == 0);
    rig.client->clear();
    rig.start_agent();
    REQUIRE(rig.wait_status("echo", "running"));
    auto small_again = rig.plugin_command("echo", "echo", R"({"request_id":"small"})", "small");
    REQUIRE(small_again);
    CHECK(small_again->payload == small->payload);
    auto big_again = rig.plugin_command(
        "echo", "echo", R"({"request_id":"big-7","message":")" + big + "\"}", "big-7");
    REQUIRE(big_again);
    auto replay = big_again->json();
    CHECK(std::string(replay["request_id"].GetString()) == "big-7");
    CHECK(replay["ok"].GetBool());
    CHECK(replay["truncated"].GetBool());
    CHECK_FALSE(replay.HasMember("echo"));
}
