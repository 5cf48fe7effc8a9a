#include "common/logging.hpp"

#include <mutex>

#include <spdlog/sinks/stdout_color_sinks.h>

#include "common/log_levels.hpp"
#include "common/log_tap.hpp"

namespace lucid::host {

std::shared_ptr<spdlog::logger> logger(const std::string& name) {
    // spdlog::get + create is not atomic; two threads creating the same logger would throw.
    static std::mutex mutex;
    std::lock_guard<std::mutex> lock(mutex);
    if (auto existing = spdlog::get(name)) return existing;
    try {
        auto created = spdlog::stderr_color_mt(name);
        // Every line is also kept and may be streamed (contract §4.15).
        LogTap::instance().attach(created);
        return created;
    } catch (const spdlog::spdlog_ex&) {
        return spdlog::default_logger();
    }
}

std::optional<spdlog::level::level_enum> parse_log_level(std::string_view level) {
    return parse_level_name(level);
}

bool apply_log_level(std::string_view level) {
    auto parsed = parse_log_level(level);
    if (!parsed) return false;
    // The tap gives each logger its level: a component's own, and the stream's when lower.
    LogTap::instance().set_file_level(*parsed);
    return true;
}

}  // namespace lucid::host
