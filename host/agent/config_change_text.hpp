// What a cfg/set changed, as the agent's log line says it (contract §4.10): every setting whose
// value differs between the config before and after, by its dotted path as `config set` takes
// it, with its new value — `heartbeat_s=30 logs_level=warn
// telemetry.metrics.cpu_percent.enabled=true labels={"site":"berlin"}` — so that the log tells
// what an operator changed, not a fixed subset. A key that names a secret (password, secret,
// token, key, credential) shows `***` instead of its value; values are cut at 200 bytes.
//
// Pure; thread-safe.
#pragma once

#include <string>

#include "agent/core_config.hpp"

namespace lucid::host::agent {

// "" when nothing changed.
std::string config_change_text(const CoreConfig& before, const CoreConfig& after);

}  // namespace lucid::host::agent
