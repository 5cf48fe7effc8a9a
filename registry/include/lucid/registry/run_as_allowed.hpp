// LUCID_RUN_AS_ALLOWED: the users (and, per user, the extra supplementary groups) a component's
// child process may be made to run as. A run_as arrives over MQTT (install, configure, desired
// state); the agent runs as root to switch users. Without a list kept on the device itself, any
// client allowed to send commands could pick any uid, root included: a privilege escalation. So
// nothing is allowed unless this local setting names it, root included.
//
//   LUCID_RUN_AS_ALLOWED=nobody,lucid-cam:video:plugdev
//
// allows `nobody` with no extra group, and `lucid-cam` with the extra groups video and plugdev
// (each in any subset). Names are account names, never numbers.
//
// Thread: pure functions. Errors: texts (contract §8.2, §4.13).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lucid/registry/entry.hpp"

namespace lucid::registry {

inline constexpr std::string_view kRunAsAllowedVariable = "LUCID_RUN_AS_ALLOWED";

struct RunAsAllowed {
    std::map<std::string, std::vector<std::string>> users;  // user -> the groups it may get

    bool operator==(const RunAsAllowed& o) const { return users == o.users; }
};

// Why `name` is no account name (`[A-Za-z0-9_][A-Za-z0-9_.-]{0,31}`, not all digits: a number
// would read as a uid), or nullopt:
//   'run_as.user' 'x y' is not a user or group name ([A-Za-z0-9_][A-Za-z0-9_.-]{0,31}, not all
//   digits)
std::optional<std::string> account_name_error(std::string_view field, std::string_view name);

// Parses the setting: entries separated by commas, each USER or USER:GROUP:GROUP...; spaces
// around names are ignored; empty text allows nothing. On a malformed value returns why, naming
// the entry ("entry 2 'a::b': empty group name"), and leaves `out` alone.
std::optional<std::string> parse_run_as_allowed(std::string_view text, RunAsAllowed& out);

// The setting as check-config shows it: "nobody,lucid-cam:video:plugdev", "(none)" when empty.
std::string run_as_allowed_text(const RunAsAllowed& allowed);

// Why `run_as` may not be used, or nullopt (also for an empty run_as: the agent's own user):
//   run_as not allowed: root (not in LUCID_RUN_AS_ALLOWED)
//   run_as not allowed: group video for nobody (not in LUCID_RUN_AS_ALLOWED)
std::optional<std::string> run_as_refusal(const RunAsAllowed& allowed, const RunAs& run_as);

}  // namespace lucid::registry
