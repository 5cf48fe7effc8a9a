// The environment a lucid-plugin-runner child gets: not the agent's. The agent's environment
// holds its secrets (LUCID_MQTT_URL with the broker password, TLS key paths, whatever a unit's
// EnvironmentFile= put there), which a plugin in a child — under run_as another user too — must
// not read. Only what locale, time zone, library lookup and the sanitizers need goes through.
#pragma once

#include <string>
#include <vector>

namespace lucid::host::isolation {

// The NAME=value entries of `environment` (a NULL-terminated array like environ) a child keeps:
// PATH, LANG, LANGUAGE, LC_*, TZ, LD_LIBRARY_PATH and the sanitizers' *SAN_OPTIONS.
std::vector<std::string> child_environment(const char* const* environment);

}  // namespace lucid::host::isolation
