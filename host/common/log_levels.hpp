// The level names of the agent's logs (contract §4.15, §4.10): `log_level` and `logs_level` in
// cfg/set, a component's `log_level` (components/{cid}/cfg/logging/set), the `level` of
// core/cmd/logs/get and of a temporary stream, lucidctl's --level. One vocabulary for all of
// them, so that an operator need not remember which key wants which spelling: trace, debug,
// info, warn, error in any case, with `warning` for warn and `err` for error.
//
// What is written back is canonical: lowercase spdlog names (trace … error) everywhere, except
// cfg/set's `log_level`, which keeps the earlier agent's uppercase words (DEBUG, INFO, WARNING,
// ERROR; TRACE) for its consumers.
//
// Pure; thread-safe.
//
//   parse_level_name("Warning") == spdlog::level::warn;  stream_level_name(spdlog::level::err)
//   == "error";  file_level_name(spdlog::level::warn) == "WARNING"
#pragma once

#include <optional>
#include <string_view>

#include <spdlog/common.h>

namespace lucid::host {

// For error messages: "<key> must be one of <kLevelNames>".
inline constexpr std::string_view kLevelNames =
    "trace, debug, info, warn, error (any case; warning and err too)";
// Kept for the callers that name the stream's levels.
inline constexpr std::string_view kStreamLevelNames = kLevelNames;

// trace, debug, info, warn|warning, error|err in any case → spdlog level; nullopt otherwise.
std::optional<spdlog::level::level_enum> parse_level_name(std::string_view name);
inline std::optional<spdlog::level::level_enum> parse_stream_level(std::string_view name) {
    return parse_level_name(name);
}

// "default" in any case: a component's level removed (as null), components/{cid}/cfg/logging/set.
bool is_default_level(std::string_view name);

// The name of a level as a published line carries it (critical is "error", off is "off").
std::string_view stream_level_name(spdlog::level::level_enum level);
// The same in cfg/set's `log_level` words: TRACE, DEBUG, INFO, WARNING, ERROR.
std::string_view file_level_name(spdlog::level::level_enum level);

}  // namespace lucid::host
