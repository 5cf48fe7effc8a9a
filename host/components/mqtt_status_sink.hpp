// The lifecycle's StatusSink on MQTT: a component's states as the retained
// `components/{cid}/status` and `components/{cid}/cfg/state` (contract §6), and a call of the
// agent's `changed` function (which republishes core/components) when the list changed.
//
// Thread: any. Errors: a publish that cannot even be queued returns false (the port's
// one-way methods drop that: the next connect republishes every snapshot).
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "components/lifecycle_ports.hpp"
#include "contract/topics.hpp"
#include "mqtt/mqtt_session.hpp"

namespace lucid::host::components {

class MqttStatusSink final : public StatusSink {
  public:
    // What the agent keeps about a component outside the lifecycle (its own log level,
    // agent/component_log_levels.hpp): shown in its status, dropped when it is forgotten.
    struct AgentSide {
        std::function<std::optional<std::string>(const std::string& component_id)> log_level_of;
        std::function<void(const std::string& component_id)> forgotten;
    };
    MqttStatusSink(mqtt::MqttSession& session, contract::AgentTopics topics,
                   std::function<void()> changed, AgentSide agent_side = {});

    // A change while offline is not queued: the next connect publishes every component's
    // snapshots as they are then (the agent's publish_all), once, and a status set meanwhile is
    // published by itself (the session is connected before that pass reads the statuses).
    // Before the first connect (the boot) that is every component's start: its `starting`
    // and `running` are not sent, only its state once online.
    void status(const std::string& component_id, const ComponentStatus& status) override {
        if (session_.connected()) publish_status(component_id, status);
    }
    void config(const std::string& component_id, const std::string& config_json) override {
        if (session_.connected()) publish_config(component_id, config_json);
    }
    void forgotten(const std::string& component_id) override;
    void changed() override;

    // A retained snapshot, QoS 1. `at`: the payload's `ts` (a snapshot pass gives all of its
    // payloads the same).
    struct Message {
        std::string topic;
        std::string payload;
    };
    Message status_message(const std::string& component_id, const ComponentStatus& status,
                           std::chrono::system_clock::time_point at) const;
    Message config_message(const std::string& component_id, const std::string& config_json,
                           std::chrono::system_clock::time_point at) const;
    bool publish_status(
        const std::string& component_id, const ComponentStatus& status,
        std::chrono::system_clock::time_point at = std::chrono::system_clock::now());
    bool publish_config(
        const std::string& component_id, const std::string& config_json,
        std::chrono::system_clock::time_point at = std::chrono::system_clock::now());

  private:
    mqtt::MqttSession& session_;
    const contract::AgentTopics topics_;
    const std::function<void()> changed_;
    const AgentSide agent_side_;
};

}  // namespace lucid::host::components
