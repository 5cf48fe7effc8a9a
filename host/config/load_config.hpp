// The whole start-up configuration as lucid-agent and lucidctl both read it: choose the env
// file, read it, resolve flags > environment > env file > defaults (config_resolver.hpp).
// Impure (reads the environment, the env file and the host name); the rules are in the resolver.
#pragma once

#include <string>

#include "config/config_resolver.hpp"

namespace lucid::host::config {

// Errors (an unreadable or malformed env file, a bad value) come back in `error`, ready for
// "lucid-agent: configuration error: ..." (never containing a password).
// An unreadable env file that was asked for (--env-file, LUCID_ENV_FILE) is an error naming the
// file and the errno's text; the default one (`default_env_file`, a seam for tests) that cannot
// be read is a warning, and the config comes from flags and the environment.
ResolveResult load_config(const CommandLine& cli,
                          const std::string& default_env_file = "/etc/lucid/agent.env");

}  // namespace lucid::host::config
