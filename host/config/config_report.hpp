// The `lucid-agent check-config` output: every resolved setting with its origin, the broker
// password and the userinfo, query and fragment of URL prefixes redacted. The same list of values
// tells a reload which settings changed. Pure.
#pragma once

#include <string>
#include <vector>

#include "config/agent_config.hpp"

namespace lucid::host::config {

struct ConfigValue {
    std::string key;     // setting name (settings.hpp)
    std::string value;   // as check-config prints it; never a password
    std::string origin;  // "flag --x", "environment X", "env file X", "default"
};

// Every setting, in check-config's order.
std::vector<ConfigValue> config_values(const AgentConfig& config);

// One setting's value as check-config prints it (redacted); empty for an unknown key.
std::string config_value(const AgentConfig& config, const std::string& key);

std::string describe_config(const AgentConfig& config);

}  // namespace lucid::host::config
