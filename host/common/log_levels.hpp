// The level names of the log stream (contract §4.15): `logs_level` in cfg/set, a component's
// `log_level` (components/{cid}/cfg/logging/set), the `level` of a temporary stream and of each
// published line. Lowercase, as spdlog names them, unlike cfg/set's older `log_level` (DEBUG,
// INFO, WARNING, ERROR: the earlier agent's wording, kept for its consumers).
//
// Pure; thread-safe.
//
//   parse_stream_level("warn") == spdlog::level::warn;  stream_level_name(spdlog::level::err)
//   == "error"
#pragma once

#include <optional>
#include <string_view>

#include <spdlog/common.h>

namespace lucid::host {

// For error messages: "<key> must be one of trace, debug, info, warn, error".
inline constexpr std::string_view kStreamLevelNames = "trace, debug, info, warn, error";

// trace, debug, info, warn, error → spdlog level; nullopt for anything else (case matters).
std::optional<spdlog::level::level_enum> parse_stream_level(std::string_view name);

// The name of a level as a published line carries it (critical is "error", off is "off").
std::string_view stream_level_name(spdlog::level::level_enum level);

}  // namespace lucid::host
