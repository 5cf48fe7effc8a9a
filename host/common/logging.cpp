#include "common/logging.hpp"

#include <mutex>

#include <spdlog/sinks/stdout_color_sinks.h>

namespace lucid::host {

std::shared_ptr<spdlog::logger> logger(const std::string& name) {
    // spdlog::get + create is not atomic; two threads creating the same logger would throw.
    static std::mutex mutex;
    std::lock_guard<std::mutex> lock(mutex);
    if (auto existing = spdlog::get(name)) return existing;
    try {
        return spdlog::stderr_color_mt(name);
    } catch (const spdlog::spdlog_ex&) {
        return spdlog::default_logger();
    }
}

std::optional<spdlog::level::level_enum> parse_log_level(std::string_view level) {
    if (level == "DEBUG") return spdlog::level::debug;
    if (level == "INFO") return spdlog::level::info;
    if (level == "WARNING") return spdlog::level::warn;
    if (level == "ERROR") return spdlog::level::err;
    return std::nullopt;
}

bool apply_log_level(std::string_view level) {
    auto parsed = parse_log_level(level);
    if (!parsed) return false;
    // spdlog::set_level also becomes the level of loggers created later.
    spdlog::set_level(*parsed);
    return true;
}

}  // namespace lucid::host
