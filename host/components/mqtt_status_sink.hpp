// The lifecycle's StatusSink on MQTT: a component's states as the retained
// `components/{cid}/status` and `components/{cid}/cfg/state` (contract §6), and a call of the
// agent's `changed` function (which republishes core/components) when the list changed.
//
// Thread: any. Errors: a publish that cannot even be queued returns false (the port's
// one-way methods drop that: the next connect republishes every snapshot).
#pragma once

#include <functional>
#include <string>

#include "components/lifecycle_ports.hpp"
#include "contract/topics.hpp"
#include "mqtt/mqtt_session.hpp"

namespace lucid::host::components {

class MqttStatusSink final : public StatusSink {
  public:
    MqttStatusSink(mqtt::MqttSession& session, contract::AgentTopics topics,
                   std::function<void()> changed);

    void status(const std::string& component_id, const ComponentStatus& status) override {
        publish_status(component_id, status);
    }
    void config(const std::string& component_id, const std::string& config_json) override {
        publish_config(component_id, config_json);
    }
    void forgotten(const std::string& component_id) override;
    void changed() override;

    bool publish_status(const std::string& component_id, const ComponentStatus& status);
    bool publish_config(const std::string& component_id, const std::string& config_json);

  private:
    mqtt::MqttSession& session_;
    const contract::AgentTopics topics_;
    const std::function<void()> changed_;
};

}  // namespace lucid::host::components
