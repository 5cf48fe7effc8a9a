// Named spdlog loggers, one per subsystem ("mqtt", "commands", "agent", ...), and the mapping of
// the contract's log levels (cfg/set `log_level`) onto spdlog.
//
// Thread: all functions are safe from any thread. Errors: none thrown.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <spdlog/spdlog.h>

namespace lucid::host {

// Returns the logger called `name`, creating it (stderr, shared format) on first use.
std::shared_ptr<spdlog::logger> logger(const std::string& name);

// A level name (common/log_levels.hpp: any case, warning/err too) → spdlog level; nullopt
// for anything else.
std::optional<spdlog::level::level_enum> parse_log_level(std::string_view level);

// Applies a contract log level to every logger, existing and future. Returns false (and changes
// nothing) when the level is unknown.
bool apply_log_level(std::string_view level);

}  // namespace lucid::host
