// The example ACL (host/packaging/mosquitto-acl.conf) on a broker with passwords: the agent
// works under it, the operator drives it (lucidctl included), and another agent can neither
// command it nor read it; a plugin's absolute topics need a rule of their own.
#include <doctest/doctest.h>

#include <signal.h>

#include <fstream>

#include "agent_harness.hpp"
#include "component_rig.hpp"

using namespace lucid::itest;

namespace {

void add_user(const std::string& file, const std::string& user, const std::string& password) {
    auto [code, output] =
        run_to_completion({"/usr/bin/mosquitto_passwd", "-b", file, user, password}, {});
    REQUIRE_MESSAGE(code == 0, output);
}

}  // namespace

TEST_CASE("the example ACL confines each agent to its own subtree") {
    TempDir dir;
    const std::string passwords = (dir / "passwords").string();
    std::ofstream(passwords).flush();
    add_user(passwords, "acl-1", "agent-one-pw");
    add_user(passwords, "acl-2", "agent-two-pw");
    add_user(passwords, "operator", "operator-pw");
    Broker broker(false, Broker::Auth{passwords, LUCID_ACL_EXAMPLE});
    broker.start();

    MqttClient operator_client(broker.port(), "", "operator", "operator-pw");
    operator_client.subscribe("lucid/agents/#");
    AgentHarness agent(broker, "acl-1");
    agent.start({{"LUCID_MQTT_URL",
                  "mqtt://acl-1:agent-one-pw@127.0.0.1:" + std::to_string(broker.port())}});
    REQUIRE_MESSAGE(wait_online(operator_client, agent), agent.log(), broker.log());

    // The operator commands the agent.
    CHECK(send_command(operator_client, agent, "core/cmd/ping", "core/evt/ping_result",
                       R"({"request_id":"op-1"})", "op-1"));

    // Another agent's credentials: its command is dropped by the broker and it reads nothing.
    MqttClient intruder(broker.port(), "", "acl-2", "agent-two-pw");
    intruder.subscribe("lucid/agents/acl-1/#");
    intruder.publish(agent.topic("core/cmd/ping"), R"({"request_id":"evil-1"})");
    // A later command of the operator is the fence: once its result is there, the intruder's
    // (sent earlier on the same broker) would have been answered too.
    CHECK(send_command(operator_client, agent, "core/cmd/ping", "core/evt/ping_result",
                       R"({"request_id":"op-2"})", "op-2"));
    CHECK(operator_client.messages(agent.topic("core/evt/ping_result")).size() == 2);
    for (const auto& m : operator_client.messages(agent.topic("core/evt/ping_result"))) {
        CHECK(m.str("request_id") != "evil-1");
    }
    CHECK(intruder.all_messages().empty());

    // lucidctl with the operator's credentials works under the ACL (its marker topic included).
    auto [code, output] =
        run_to_completion({LUCIDCTL_BIN, "--timeout", "5", "plugin", "list"},
                          {{"LUCID_MQTT_URL", "mqtt://operator:operator-pw@127.0.0.1:" +
                                                  std::to_string(broker.port())},
                           {"LUCID_AGENT_ID", "acl-1"},
                           {"LUCID_ENV_FILE", "/dev/null"}});
    CHECK_MESSAGE(code == 0, output);
    CHECK(output.find("broker unreachable") == std::string::npos);

    // The fleet's artifacts: the operator publishes one, the agent installs it through its
    // desired state, which only the operator (and the agent itself) may write.
    const Artifact echo = artifact(LUCID_ITEST_ECHO_1_0);
    auto meta = operator_client.wait_for(agent.topic("core/metadata"), [](const Message& m) {
        return !m.str("build_platform").empty();
    });
    REQUIRE(meta);
    const std::string platform = meta->str("build_platform");
    const std::string topic = "lucid/artifacts/lucid-agent-echo/1.0.0/" + platform;
    operator_client.publish(topic, echo.bytes, 1, true);
    // The intruder can neither replace the artifact nor write the agent's desired state.
    intruder.publish(topic, "not a plugin", 1, true);
    intruder.publish(agent.topic("desired"), R"({"revision":99,"exclusive":true})", 1, true);
    const std::string source =
        R"({"type":"broker","topic":")" + topic + R"(","sha256":")" + echo.sha256 + "\"}";
    operator_client.publish(agent.topic("desired"),
                            R"({"revision":1,"components":{"echo":{"version":"1.0.0",)"
                            R"("artifacts":{")" +
                                platform + R"(":{"source":)" + source + "}}}}}",
                            1, true);
    auto converged = operator_client.wait_for(
        agent.topic("core/deployment"),
        [](const Message& m) {
            return uint_field(m.payload, "revision") == 1 && m.str("state") == "converged";
        },
        std::chrono::seconds(20));
    CHECK_MESSAGE(converged, agent.log());
    CHECK(operator_client.messages(agent.topic("core/deployment")).size() >= 1);
    for (const auto& m : operator_client.messages(agent.topic("core/deployment"))) {
        CHECK(uint_field(m.payload, "revision") != 99);
    }
    // The agent itself cannot publish under the fleet root.
    MqttClient as_agent(broker.port(), "", "acl-1", "agent-one-pw");
    operator_client.subscribe("lucid/artifacts/#");
    as_agent.publish("lucid/artifacts/forged/1.0.0/" + platform, "x", 1, true);
    operator_client.publish(agent.topic("core/cmd/ping"), R"({"request_id":"op-3"})");
    CHECK(operator_client.wait_for(agent.topic("core/evt/ping_result"), with_request_id("op-3")));
    CHECK(operator_client.messages("lucid/artifacts/forged/1.0.0/" + platform).empty());
    CHECK(agent.stop(SIGTERM) == 0);
}

TEST_CASE("under the example ACL a plugin's absolute topics need a rule of their own") {
    // The probe plugin subscribes to the absolute filter /itest/sensors/+/temp (MQTT topic
    // itest/sensors/+/temp, outside the agent's subtree). The README's rule grants it.
    std::ifstream example(LUCID_ACL_EXAMPLE);
    const std::string acl_text((std::istreambuf_iterator<char>(example)), {});
    for (const bool with_rule : {false, true}) {
        CAPTURE(with_rule);
        TempDir dir;
        const std::string passwords = (dir / "passwords").string();
        std::ofstream(passwords).flush();
        add_user(passwords, "acl-abs", "agent-pw");
        add_user(passwords, "operator", "operator-pw");
        add_user(passwords, "sensor", "sensor-pw");
        std::ofstream(dir / "acl")
            << acl_text << (with_rule ? "\npattern readwrite itest/#\n" : "\n")
            << "user sensor\ntopic write itest/#\n";
        Broker broker(false, Broker::Auth{passwords, (dir / "acl").string()});
        broker.start();
        MqttClient op(broker.port(), "", "operator", "operator-pw");
        op.subscribe("lucid/agents/#");
        AgentHarness agent(broker, "acl-abs");
        agent.start({{"LUCID_MQTT_URL",
                      "mqtt://acl-abs:agent-pw@127.0.0.1:" + std::to_string(broker.port())}});
        REQUIRE_MESSAGE(wait_online(op, agent), agent.log(), broker.log());
        auto installed = send_command(
            op, agent, "core/cmd/components/install", "core/evt/components/install_result",
            install_payload("acl-i1", "probe", inline_source(artifact(LUCID_ITEST_PROBE))),
            "acl-i1");
        REQUIRE(installed);
        REQUIRE_MESSAGE(ok_of(*installed), installed->payload);

        MqttClient sensor(broker.port(), "", "sensor", "sensor-pw");
        sensor.publish("itest/sensors/kitchen/temp", "21.5");
        // The fence: a command of the plugin runs on its worker after any message delivered
        // before it, so once its answer is there the temp event would be too.
        auto count = send_command(op, agent, "components/probe/cmd/count",
                                  "components/probe/evt/count_result", R"({"request_id":"acl-c1"})",
                                  "acl-c1");
        REQUIRE(count);
        CHECK(op.messages(agent.topic("components/probe/evt/temp")).empty() == !with_rule);
        CHECK(agent.stop(SIGTERM) == 0);
    }
}
