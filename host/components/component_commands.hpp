// The component commands of contract §4 on the agent's CommandDispatcher: install, uninstall,
// start, stop, restart, enable, disable (core/cmd/components/...), and the per-component
// config `components/{cid}/cfg/set`.
//
// Install and uninstall run on the slow lane (downloads); start, stop, restart, enable, disable
// and config on the control lane (they call into plugins), so that neither waits for a download
// and the fast lane keeps answering ping, refresh and cfg/set.
// Install progress is published on core/evt/components/install_progress at most every
// kProgressInterval (and once at the end of the download).
#pragma once

#include <chrono>

#include "commands/command_dispatcher.hpp"
#include "components/component_manager.hpp"
#include "mqtt/message_router.hpp"
#include "mqtt/mqtt_session.hpp"

namespace lucid::host::components {

inline constexpr std::chrono::milliseconds kProgressInterval{250};

void register_component_commands(commands::CommandDispatcher& dispatcher,
                                 mqtt::MessageRouter& router, mqtt::MqttSession& session,
                                 const contract::AgentTopics& topics, ComponentManager& manager);

}  // namespace lucid::host::components
