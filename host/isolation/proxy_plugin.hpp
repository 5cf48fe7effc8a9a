// The plugin as the agent's PluginContext sees it when it runs in lucid-plugin-runner: a
// lucid_plugin_descriptor whose create/start/stop/destroy/config_changed, and the message,
// timer and command callbacks registered for it, each send the call to the runner and wait for
// its result (RunnerChannel::invoke), copying the plugin's call_fail/call_respond back.
//
// Thread: the plugin's worker, as any plugin callback. Errors: lucid_status, as the plugin's.
#pragma once

#include <lucid/plugin.h>

#include "plugin_abi/runner_protocol.hpp"

namespace lucid::host::isolation {

// From the runner's `loaded` reply: config_changed only when the plugin has one.
lucid_plugin_descriptor proxy_descriptor(const plugin_abi::Frame& loaded);

lucid_status proxy_message(void* user, const lucid_message* message);
lucid_status proxy_timer(void* user);
lucid_status proxy_command(void* user, const lucid_command* command, lucid_call* call);

}  // namespace lucid::host::isolation
