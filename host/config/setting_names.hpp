// Which LUCID_* variables the agent knows, and the nearest known name for a typo, so that an
// env file line like `LUCID_TRUSTED_KEY_DIR=...` is reported instead of silently ignored. Pure.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lucid::host::config {

bool is_known_variable(std::string_view name);

// The known variable closest to `name` by edit distance, when it is close enough to be a typo
// (at most a third of the name's length, and at most 4 edits).
std::optional<std::string> nearest_known_variable(std::string_view name);

// One warning per unknown LUCID_* key of an env file:
// "env file /etc/lucid/agent.env: unknown setting LUCID_FOO ignored (did you mean LUCID_BAR?)".
std::vector<std::string> unknown_variable_warnings(const std::map<std::string, std::string>& values,
                                                   const std::string& env_file_path);

// One warning per known key of an env file that the environment sets to another value (the
// environment wins; the systemd unit sets LUCID_DATA_DIR, LUCID_ENV_FILE and LUCID_SUPERVISED):
// "env file /etc/lucid/agent.env: LUCID_DATA_DIR ignored: the environment sets it (under the
// systemd unit: systemctl edit lucid-agent, Environment=LUCID_DATA_DIR=...)". No value is shown
// (it may hold a password).
std::vector<std::string> shadowed_variable_warnings(
    const std::map<std::string, std::string>& values, const std::string& env_file_path,
    const std::function<std::optional<std::string>(const std::string&)>& environment);

}  // namespace lucid::host::config
