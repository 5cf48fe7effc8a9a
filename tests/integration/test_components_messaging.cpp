// Plugins talking over the agent's one MQTT connection (contract §5, issue 4 items 4 and 6):
// wildcard subscriptions (absolute `+` and relative `#`), events with their envelope, plugin
// commands with their results, and plugin subscriptions coming back after a broker restart.
#include <doctest/doctest.h>

#include <signal.h>

#include "component_rig.hpp"

using namespace lucid::itest;

namespace {

void install_probe_and_echo(ComponentRig& rig) {
    auto probe = rig.install("m-probe", "probe", inline_source(artifact(LUCID_ITEST_PROBE)));
    REQUIRE_MESSAGE(ok_of(probe), probe.payload);
    auto echo = rig.install("m-echo", "echo", inline_source(artifact(LUCID_ITEST_ECHO_1_0)));
    REQUIRE_MESSAGE(ok_of(echo), echo.payload);
    REQUIRE(rig.wait_status("probe", "running"));
    REQUIRE(rig.wait_status("echo", "running"));
}

std::optional<Message> temp_event(ComponentRig& rig, const std::string& from_topic) {
    return rig.client->wait_for(
        rig.agent.topic("components/probe/evt/temp"),
        [&](const Message& m) { return m.str("correlation_id") == from_topic; });
}

// Every plugin path works: wildcard in, event out; relative in, relative out; command, result.
void check_plugin_traffic(ComponentRig& rig, MqttClient& outside, const std::string& tag) {
    CAPTURE(tag);
    const std::string kitchen = "itest/sensors/kitchen-" + tag + "/temp";
    outside.publish(kitchen, "21.5");
    auto event = temp_event(rig, kitchen);
    REQUIRE_MESSAGE(event, rig.agent.log());
    auto doc = event->json();
    CHECK(std::string(doc["type"].GetString()) == "temp");
    CHECK(doc["data"].GetDouble() == doctest::Approx(21.5));
    CHECK(doc["id"].IsString());
    CHECK(doc["ts"].IsString());
    CHECK(has_text(doc["source"].GetString(), "probe"));

    rig.client->publish(rig.agent.topic("components/probe/in/" + tag + "/deep"), "payload-" + tag);
    CHECK(rig.client->wait_for(rig.agent.topic("components/probe/out"),
                               [&](const Message& m) { return m.payload == "payload-" + tag; }));

    auto answer = rig.plugin_command(
        "echo", "echo", R"({"request_id":"echo-)" + tag + R"(","message":"hi"})", "echo-" + tag);
    REQUIRE_MESSAGE(answer, rig.agent.log());
    CHECK(ok_of(*answer));
    CHECK(has_text(answer->payload, R"("echo":{"request_id":"echo-)" + tag));
}

void plugin_subscriptions_survive_a_broker_restart(bool persistence) {
    ComponentRig rig(persistence ? "msg-p" : "msg-n", persistence);
    rig.start_agent();
    install_probe_and_echo(rig);
    {
        MqttClient outside(rig.broker.port());
        check_plugin_traffic(rig, outside, "before");
    }

    rig.client.reset();  // its connection dies with the broker
    rig.broker.restart();
    rig.client = std::make_unique<MqttClient>(rig.broker.port());
    rig.client->subscribe(rig.agent.topic("#"));
    auto online = wait_online(*rig.client, rig.agent, rig.session);
    REQUIRE_MESSAGE(online, (rig.agent.log() + "\n--- broker ---\n" + rig.broker.log()));
    rig.session = session_of(*online);

    MqttClient outside(rig.broker.port());
    check_plugin_traffic(rig, outside, "after");
}

}  // namespace

TEST_CASE("plugins publish and receive through wildcards and answer their commands") {
    ComponentRig rig("msg-1");
    rig.start_agent();
    install_probe_and_echo(rig);
    MqttClient outside(rig.broker.port());
    check_plugin_traffic(rig, outside, "one");

    // `+` matches one level only: humidity and a deeper topic are not the probe's.
    outside.publish("itest/sensors/hall/humidity", "40");
    outside.publish("itest/sensors/hall/a/temp", "1");
    outside.publish("itest/sensors/hall/temp", "19");
    REQUIRE(temp_event(rig, "itest/sensors/hall/temp"));
    for (const auto& m : rig.client->messages(rig.agent.topic("components/probe/evt/temp"))) {
        CHECK(m.str("correlation_id") != "itest/sensors/hall/humidity");
        CHECK(m.str("correlation_id") != "itest/sensors/hall/a/temp");
    }

    // Commands the plugin does not have, and requests that are not JSON, still get a result.
    auto unknown = rig.plugin_command("echo", "nope", R"({"request_id":"n-1"})", "n-1");
    REQUIRE(unknown);
    CHECK_FALSE(ok_of(*unknown));
    CHECK(error_of(*unknown) == "unknown command: nope");
    rig.client->publish(rig.agent.topic("components/echo/cmd/echo"), "{oops");
    auto malformed = rig.client->wait_for(
        rig.agent.topic("components/echo/evt/echo_result"), [](const Message& m) {
            return m.str("request_id").empty() && has_text(m.payload, "invalid JSON:");
        });
    CHECK_MESSAGE(malformed, rig.agent.log());
    // The plugin is still fine.
    check_plugin_traffic(rig, outside, "two");
}

TEST_CASE("plugin subscriptions come back after a broker restart that forgot every session") {
    plugin_subscriptions_survive_a_broker_restart(false);
}

TEST_CASE("plugin subscriptions come back after a broker restart with persistence") {
    plugin_subscriptions_survive_a_broker_restart(true);
}

TEST_CASE("a plugin that publishes in start while the broker is away at boot starts all the same") {
    // libmosquitto keeps a QoS 1 message published while disconnected and sends it on connect,
    // yet reports MOSQ_ERR_NO_CONN: for the plugin that publish succeeded (PublishOutcome::
    // queued). The probe publishes its "started" event in start().
    ComponentRig rig("msg-offline-boot");
    rig.start_agent();
    install_probe_and_echo(rig);
    REQUIRE(rig.agent.stop(SIGTERM) == 0);
    rig.broker.stop();
    rig.agent.start(rig.env);
    // The components boot before the first connection attempt.
    REQUIRE_MESSAGE(rig.agent.wait_for_log("reconnecting to", std::chrono::seconds(10)),
                    rig.agent.log());
    rig.broker.start();
    rig.client = std::make_unique<MqttClient>(rig.broker.port());
    rig.client->subscribe(rig.agent.topic("#"));
    auto running = rig.wait_status("probe", "running");
    REQUIRE_MESSAGE(running, rig.agent.log());
    CHECK(running->json()["error"].IsNull());
}

TEST_CASE("a plugin command repeated with the same request_id gets the first answer again") {
    ComponentRig rig("msg-dup");
    rig.start_agent();
    install_probe_and_echo(rig);
    auto first = rig.plugin_command("echo", "echo", R"({"request_id":"d-1","message":"a"})", "d-1");
    REQUIRE_MESSAGE(first, rig.agent.log());
    REQUIRE(ok_of(*first));
    rig.client->clear();
    // A retry of the same request (QoS 1 redelivery, a client's retry) with another body: it is
    // not run again, the recorded answer comes back unchanged, down to its timestamp.
    auto again = rig.plugin_command("echo", "echo", R"({"request_id":"d-1","message":"b"})", "d-1");
    REQUIRE(again);
    CHECK(again->payload == first->payload);
    CHECK(has_text(again->payload, "\"message\":\"a\""));
    // A new request_id runs normally.
    auto other = rig.plugin_command("echo", "echo", R"({"request_id":"d-2","message":"c"})", "d-2");
    REQUIRE(other);
    CHECK(has_text(other->payload, "\"message\":\"c\""));
}

TEST_CASE("a plugin publishing what looks like a command result cannot answer that command") {
    // Only the agent's command path records answers: a message a plugin publishes on a
    // `..._result` topic with a request_id is a message, never the answer to that request.
    ComponentRig rig("msg-forged");
    rig.start_agent();
    install_probe_and_echo(rig);
    auto forged = rig.plugin_command("probe", "forge", R"({"request_id":"forge-1"})", "forge-1");
    REQUIRE_MESSAGE(forged, rig.agent.log());
    REQUIRE(rig.client->wait_for(rig.agent.topic("components/probe/evt/count_result"),
                                 [](const Message& m) { return has_text(m.payload, "999"); }));
    rig.client->clear();
    auto real = rig.plugin_command("probe", "count", R"({"request_id":"forged-1"})", "forged-1");
    REQUIRE_MESSAGE(real, rig.agent.log());
    CHECK_MESSAGE(has_text(real->payload, R"("count":1)"), real->payload);
}

TEST_CASE("a copy of a plugin command that arrives while the first still runs is not run again") {
    ComponentRig rig("msg-dup-running");
    rig.start_agent();
    install_probe_and_echo(rig);
    // Both copies are queued before the first has answered: the check at arrival finds no
    // answer yet, the one on the plugin's worker does.
    const std::string command = R"({"request_id":"slow-1"})";
    rig.client->publish(rig.agent.topic("components/probe/cmd/count_slowly"), command);
    rig.client->publish(rig.agent.topic("components/probe/cmd/count_slowly"), command);
    const auto answers =
        rig.client->wait_for_count(rig.agent.topic("components/probe/evt/count_slowly_result"), 2,
                                   [](const Message&) { return true; });
    REQUIRE_MESSAGE(answers.size() == 2, rig.agent.log());
    CHECK(has_text(answers[0].payload, R"("count":1)"));
    CHECK(answers[1].payload == answers[0].payload);
    // The next request_id is the plugin's second run.
    auto next = rig.plugin_command("probe", "count", R"({"request_id":"count-2"})", "count-2");
    REQUIRE_MESSAGE(next, rig.agent.log());
    CHECK(has_text(next->payload, R"("count":2)"));
}

TEST_CASE("each message reaches a plugin's subscription once, also after the plugin restarted") {
    // The router routes each plugin subscription by itself: a route a stop left behind would
    // hand every message to the restarted plugin twice.
    ComponentRig rig("msg-once");
    rig.start_agent();
    install_probe_and_echo(rig);
    for (const char* id : {"once-r1", "once-r2"}) {
        REQUIRE(ok_of(rig.control("restart", "probe", id)));
        REQUIRE(rig.wait_status("probe", "running"));
    }
    MqttClient outside(rig.broker.port());
    // Wait until the probe's subscription is back on the broker before counting.
    check_plugin_traffic(rig, outside, "once");
    rig.client->clear();
    for (int i = 1; i <= 3; ++i)
        outside.publish("itest/sensors/once-" + std::to_string(i) + "/temp", "1");
    // The plugin handles its messages in order on one worker: the last event comes after any
    // second copy of the earlier ones.
    outside.publish("itest/sensors/once-last/temp", "1");
    REQUIRE_MESSAGE(temp_event(rig, "itest/sensors/once-last/temp"), rig.agent.log());
    std::map<std::string, int> events;
    for (const auto& m : rig.client->messages(rig.agent.topic("components/probe/evt/temp"))) {
        ++events[m.str("correlation_id")];
    }
    for (int i = 1; i <= 3; ++i) {
        CHECK(events["itest/sensors/once-" + std::to_string(i) + "/temp"] == 1);
    }
}
