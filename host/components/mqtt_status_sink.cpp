#include "components/mqtt_status_sink.hpp"

#include "contract/payloads.hpp"

namespace lucid::host::components {

MqttStatusSink::MqttStatusSink(mqtt::MqttSession& session, contract::AgentTopics topics,
                               std::function<void()> changed, AgentSide agent_side)
    : session_(session),
      topics_(std::move(topics)),
      changed_(std::move(changed)),
      agent_side_(std::move(agent_side)) {}

MqttStatusSink::Message MqttStatusSink::status_message(
    const std::string& component_id, const ComponentStatus& status,
    std::chrono::system_clock::time_point at) const {
    std::optional<std::string> log_level;
    if (agent_side_.log_level_of) log_level = agent_side_.log_level_of(component_id);
    return {
        topics_.component_status(component_id),
        contract::component_status_payload(
            status.state, status.version, status.error, status.dropped_messages, at,
            {status.isolation, &status.containment, status.restarts, status.demoted, &status.run_as,
             status.warning, status.duplicates_dropped, log_level.value_or("")})};
}

MqttStatusSink::Message MqttStatusSink::config_message(
    const std::string& component_id, const std::string& config_json,
    std::chrono::system_clock::time_point at) const {
    return {topics_.component_cfg_state(component_id),
            contract::component_cfg_state_payload(config_json, at)};
}

bool MqttStatusSink::publish_status(const std::string& component_id, const ComponentStatus& status,
                                    std::chrono::system_clock::time_point at) {
    const Message m = status_message(component_id, status, at);
    return session_.publish(m.topic, m.payload, 1, true).ok();
}

bool MqttStatusSink::publish_config(const std::string& component_id, const std::string& config_json,
                                    std::chrono::system_clock::time_point at) {
    const Message m = config_message(component_id, config_json, at);
    return session_.publish(m.topic, m.payload, 1, true).ok();
}

void MqttStatusSink::forgotten(const std::string& component_id) {
    // An empty retained message deletes the retained snapshot on the broker.
    session_.publish(topics_.component_status(component_id), "", 1, true);
    session_.publish(topics_.component_cfg_state(component_id), "", 1, true);
    if (agent_side_.forgotten) agent_side_.forgotten(component_id);
}

void MqttStatusSink::changed() {
    if (changed_) changed_();
}

}  // namespace lucid::host::components
