// How long the agent waits for one plugin callback (start, stop, a command handler) before it
// answers without it: the default of components::ManagerSettings::plugin_call_timeout (a unit
// test keeps the two equal). lucidctl derives from it how long the agent may take to answer a
// component command.
#pragma once

#include <chrono>

namespace lucid::host::contract {

inline constexpr std::chrono::milliseconds kPluginCallTimeout{10000};

}  // namespace lucid::host::contract
