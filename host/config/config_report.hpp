// The `lucid-agent check-config` output: every resolved setting with its origin, the broker
// password redacted. Pure.
#pragma once

#include <string>

#include "config/agent_config.hpp"

namespace lucid::host::config {

std::string describe_config(const AgentConfig& config);

}  // namespace lucid::host::config
