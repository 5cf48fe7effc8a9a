// The whole start-up configuration as lucid-agent and lucidctl both read it: choose the env
// file, read it, resolve flags > environment > env file > defaults (config_resolver.hpp).
// Impure (reads the environment, the env file and the host name); the rules are in the resolver.
#pragma once

#include "config/config_resolver.hpp"

namespace lucid::host::config {

// Errors (an unreadable or malformed env file, a bad value) come back in `error`, ready for
// "lucid-agent: configuration error: ..." (never containing a password).
ResolveResult load_config(const CommandLine& cli);

}  // namespace lucid::host::config
