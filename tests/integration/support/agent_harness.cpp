#include "agent_harness.hpp"

#include <signal.h>

#include <fstream>

#ifndef LUCID_AGENT_BIN
#error "LUCID_AGENT_BIN must name the lucid-agent binary"
#endif

namespace lucid::itest {

AgentHarness::AgentHarness(const Broker& broker, std::string agent_id)
    : broker_(broker), agent_id_(std::move(agent_id)) {
    std::ofstream(data_ / "empty.env").flush();
}

AgentHarness::~AgentHarness() {
    if (process_.running()) process_.stop(SIGKILL);
}

void AgentHarness::start(const std::map<std::string, std::string>& extra_env) {
    std::map<std::string, std::string> env{
        {"LUCID_MQTT_URL", broker_.url()},
        {"LUCID_AGENT_ID", agent_id_},
        {"LUCID_DATA_DIR", (data_ / "data").string()},
        {"LUCID_ENV_FILE", (data_ / "empty.env").string()},
        {"LUCID_RECONNECT_MIN_MS", "20"},
        {"LUCID_RECONNECT_MAX_MS", "200"},
        {"LUCID_SUPERVISED", "no"},
    };
    for (const auto& [k, v] : extra_env) env[k] = v;
    process_.start({LUCID_AGENT_BIN}, env, data_ / ("agent." + std::to_string(++starts_) + ".log"));
}

int AgentHarness::stop(int signo) { return process_.stop(signo); }

std::string AgentHarness::topic(const std::string& suffix) const {
    return "lucid/agents/" + agent_id_ + "/" + suffix;
}

std::optional<Message> send_command(MqttClient& client, const AgentHarness& agent,
                                    const std::string& command_suffix,
                                    const std::string& result_suffix, const std::string& payload,
                                    const std::string& request_id) {
    client.publish(agent.topic(command_suffix), payload);
    return client.wait_for(agent.topic(result_suffix), with_request_id(request_id));
}

std::uint64_t session_of(const Message& status) {
    auto doc = status.json();
    return doc.HasMember("session") && doc["session"].IsUint64() ? doc["session"].GetUint64() : 0;
}

std::optional<Message> wait_online(MqttClient& client, const AgentHarness& agent,
                                   std::uint64_t after_session) {
    return client.wait_for(agent.topic("status"), [after_session](const Message& m) {
        return m.str("state") == "online" && session_of(m) > after_session;
    });
}

}  // namespace lucid::itest
