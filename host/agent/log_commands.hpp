// The log commands (contract §4.15): `core/cmd/logs/get` (the kept lines) and
// `core/cmd/logs/stream` (a temporary stream) on the fast lane, and
// `components/{cid}/cfg/logging/set` (a component's own level) on the control lane, like the
// component's cfg/set.
//
// Thread: handlers run on their lanes; the tap, the stream and the levels are thread-safe.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "agent/component_log_levels.hpp"
#include "agent/log_stream.hpp"
#include "commands/command_dispatcher.hpp"
#include "common/log_tap.hpp"
#include "contract/topics.hpp"
#include "mqtt/message_router.hpp"
#include "mqtt/mqtt_session.hpp"

namespace lucid::host::agent {

std::vector<commands::CommandSpec> log_command_specs(const contract::AgentTopics& topics,
                                                     LogTap& tap, LogStream& stream);

// What a component's level needs of the components: `installed` says whether a component id is
// one of the agent's (else `component not found: <cid>`, except to clear a level still stored);
// `changed` is called after its level changed (its status shows the level).
struct ComponentLevelPorts {
    std::function<bool(const std::string&)> installed;
    std::function<void(const std::string&)> changed;
};

// Routes `components/+/cfg/logging/set`. Everything passed must outlive the agent's run.
void register_component_log_level(commands::CommandDispatcher& dispatcher,
                                  mqtt::MessageRouter& router, mqtt::MqttSession& session,
                                  const contract::AgentTopics& topics, ComponentLogLevels& levels,
                                  ComponentLevelPorts ports);

}  // namespace lucid::host::agent
