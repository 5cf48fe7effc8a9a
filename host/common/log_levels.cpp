#include "common/log_levels.hpp"

#include <array>
#include <cctype>
#include <utility>

namespace lucid::host {

namespace {

bool same_ignoring_case(std::string_view a, std::string_view lowercase) {
    if (a.size() != lowercase.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (std::tolower(static_cast<unsigned char>(a[i])) != lowercase[i]) return false;
    }
    return true;
}

}  // namespace

bool is_default_level(std::string_view name) { return same_ignoring_case(name, "default"); }

std::optional<spdlog::level::level_enum> parse_level_name(std::string_view name) {
    static constexpr std::array<std::pair<std::string_view, spdlog::level::level_enum>, 7> kNames{
        {{"trace", spdlog::level::trace},
         {"debug", spdlog::level::debug},
         {"info", spdlog::level::info},
         {"warn", spdlog::level::warn},
         {"warning", spdlog::level::warn},
         {"error", spdlog::level::err},
         {"err", spdlog::level::err}}};
    for (const auto& [known, level] : kNames) {
        if (same_ignoring_case(name, known)) return level;
    }
    return std::nullopt;
}

std::string_view stream_level_name(spdlog::level::level_enum level) {
    switch (level) {
        case spdlog::level::trace:
            return "trace";
        case spdlog::level::debug:
            return "debug";
        case spdlog::level::info:
            return "info";
        case spdlog::level::warn:
            return "warn";
        case spdlog::level::err:
        case spdlog::level::critical:
            return "error";
        default:
            return "off";
    }
}

std::string_view file_level_name(spdlog::level::level_enum level) {
    switch (level) {
        case spdlog::level::trace:
            return "TRACE";
        case spdlog::level::debug:
            return "DEBUG";
        case spdlog::level::info:
            return "INFO";
        case spdlog::level::warn:
            return "WARNING";
        case spdlog::level::err:
        case spdlog::level::critical:
            return "ERROR";
        default:
            return "OFF";
    }
}

}  // namespace lucid::host
