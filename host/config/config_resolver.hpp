// Resolution of the start-up configuration (contract §8). Pure: the environment, the env file's
// contents and the host facts are passed in, so every rule has a unit test.
//
// Precedence, per setting: command-line flag, then the process environment, then the env file,
// then the default. The broker comes from LUCID_MQTT_URL (by that precedence); only when it is
// set nowhere are the earlier agent's MQTT_HOST, MQTT_PORT, AGENT_USERNAME, AGENT_PASSWORD used
// (each by the same precedence), else mqtt://127.0.0.1:1883.
//
// Defaults: agent_id from the host name (lowercased, characters outside [a-z0-9_-] → `_`);
// data_dir /var/lib/lucid when root, else $XDG_STATE_HOME/lucid, else ~/.local/state/lucid;
// plugin_dir {data_dir}/plugins.d.
//
// Errors: the first bad value, as a one-line message naming the setting and where it came from
// (never a password); the CLI exits 2.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "config/agent_config.hpp"
#include "config/command_line.hpp"

namespace lucid::host::config {

using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;

struct HostFacts {
    std::string hostname;
    bool is_root = false;
};

struct ResolveResult {
    std::optional<AgentConfig> config;
    std::string error;
    // Problems that do not stop anything (an unreadable default env file, unknown LUCID_* keys):
    // the agent logs them as WARN, lucidctl prints them once on stderr.
    std::vector<std::string> warnings;
};

// Which env file to read: --env-file, else $LUCID_ENV_FILE, else the default path. `required`
// is true for the first two (a missing file is then an error).
struct EnvFileChoice {
    std::string path;
    bool required = false;
};
EnvFileChoice choose_env_file(const CommandLine& cli, const EnvLookup& env);

ResolveResult resolve_config(const CommandLine& cli, const EnvLookup& env,
                             const std::map<std::string, std::string>& env_file,
                             const std::string& env_file_path, const HostFacts& facts);

// The default agent id for a host name; empty when nothing usable remains.
std::string agent_id_from_hostname(std::string_view hostname);

// Parses "123", "64K", "64M", "1G" (binary multiples).
std::optional<std::uint64_t> parse_byte_size(std::string_view text);

}  // namespace lucid::host::config
