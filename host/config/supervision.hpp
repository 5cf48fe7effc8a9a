// The `supervised` setting (--supervised / LUCID_SUPERVISED = auto|yes|no): whether a service
// manager starts the agent again when it exits, which decides whether the `restart` command
// may exit it (commands/restart_policy.hpp). `auto` looks for what systemd gives its services:
// INVOCATION_ID (every unit) or NOTIFY_SOCKET (Type=notify).
// Thread: pure functions.
#pragma once

#include <functional>
#include <optional>
#include <string>

namespace lucid::host::config {

enum class Supervision { automatic, yes, no };

bool is_supervised(Supervision setting,
                   const std::function<std::optional<std::string>(const std::string&)>& env);

}  // namespace lucid::host::config
