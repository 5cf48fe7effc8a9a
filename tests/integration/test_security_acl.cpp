// The example ACL (host/packaging/mosquitto-acl.conf) on a broker with passwords: the agent
// works under it, the operator drives it (lucidctl included), and another agent can neither
// command it nor read it.
#include <doctest/doctest.h>

#include <signal.h>

#include <fstream>

#include "agent_harness.hpp"

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
    CHECK(agent.stop(SIGTERM) == 0);
}
