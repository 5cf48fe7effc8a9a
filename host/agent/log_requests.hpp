// The payloads of the log commands (contract §4.15), read after parse_command() accepted them:
//   core/cmd/logs/get     {"request_id", "n"?, "level"?, "component"?}
//   core/cmd/logs/stream  {"request_id", "level"?, "seconds"?}
//   components/{cid}/cfg/logging/set  {"request_id", "log_level"}   (a level, or null or
//                                     "default": none)
// Level names as common/log_levels.hpp reads them (any case, warning, err).
// Other members are ignored, as by every command. Errors are the contract's exact strings
// (`validation_error: 'n' must be an integer from 1 to 1000`, …; the component's in the style of
// its cfg/set: `log_level must be one of <kLevelNames>, or default (or null) for none`). Pure;
// thread-safe.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

#include <rapidjson/document.h>
#include <spdlog/common.h>

namespace lucid::host::agent {

inline constexpr std::size_t kMaxLogsGetLines = 1000;
inline constexpr int kMaxStreamSeconds = 3600;

struct LogsGetRequest {
    std::size_t n = 100;
    spdlog::level::level_enum level = spdlog::level::trace;
    std::optional<std::string> component;  // "core" or a component id; none: every logger
    std::string error;                     // when not empty, the rest is meaningless
};
LogsGetRequest parse_logs_get(const rapidjson::Value& payload);

struct LogsStreamRequest {
    spdlog::level::level_enum level = spdlog::level::info;
    int seconds = 60;
    std::string error;
};
LogsStreamRequest parse_logs_stream(const rapidjson::Value& payload);

struct ComponentLogLevelRequest {
    std::optional<spdlog::level::level_enum> level;  // none: the agent's levels again
    std::string error;
};
ComponentLogLevelRequest parse_component_log_level(const rapidjson::Value& payload);

}  // namespace lucid::host::agent
