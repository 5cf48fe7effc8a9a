#include "common/log_tap.hpp"

#include <algorithm>
#include <utility>

#include <spdlog/sinks/sink.h>

#include "common/log_redaction.hpp"

namespace lucid::host {
namespace {

constexpr std::string_view kPluginPrefix = "plugin.";

thread_local bool t_muted = false;

// Forwards every line of the loggers it is attached to; its own level stays trace (the tap
// decides per logger).
class TapSink final : public spdlog::sinks::sink {
  public:
    void log(const spdlog::details::log_msg& message) override {
        LogTap::instance().on_line(message);
    }
    void flush() override {}
    void set_pattern(const std::string&) override {}
    void set_formatter(std::unique_ptr<spdlog::formatter>) override {}
};

// At most `limit` bytes, cut back to a UTF-8 character boundary, with the full size said.
std::string cut(std::string_view text, std::size_t limit) {
    if (text.size() <= limit) return std::string(text);
    std::size_t end = limit;
    while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
    return std::string(text.substr(0, end)) + "...(" + std::to_string(text.size()) + " bytes)";
}

}  // namespace

LogTap& LogTap::instance() {
    // Never destroyed: loggers may write from static destructors and detached threads.
    static LogTap* tap = new LogTap();
    return *tap;
}

LogTap::LogTap() : sink_(std::make_shared<TapSink>()) {}

void LogTap::mute_this_thread() { t_muted = true; }

std::string LogTap::logger_of(std::string_view logger_name) {
    if (logger_name.substr(0, kPluginPrefix.size()) == kPluginPrefix &&
        logger_name.size() > kPluginPrefix.size()) {
        return std::string(logger_name.substr(kPluginPrefix.size()));
    }
    return "core";
}

spdlog::level::level_enum LogTap::file_threshold(const Levels& levels, std::string_view logger) {
    if (logger != "core") {
        if (auto it = levels.components.find(logger); it != levels.components.end()) {
            return it->second;
        }
    }
    return levels.file;
}

std::optional<spdlog::level::level_enum> LogTap::stream_threshold(const Levels& levels,
                                                                  std::string_view logger) {
    if (!levels.stream) return std::nullopt;
    if (logger != "core") {
        if (auto it = levels.components.find(logger); it != levels.components.end()) {
            return it->second;
        }
    }
    return levels.stream;
}

void LogTap::apply_to(spdlog::logger& logger, const Levels& levels) const {
    const std::string of = logger_of(logger.name());
    const auto file = file_threshold(levels, of);
    const auto stream = stream_threshold(levels, of);
    auto& sinks = logger.sinks();
    if (!sinks.empty() && sinks.front() != sink_) sinks.front()->set_level(file);
    logger.set_level(stream ? std::min(file, *stream) : file);
}

void LogTap::attach(const std::shared_ptr<spdlog::logger>& logger) {
    std::lock_guard<std::mutex> apply(apply_mutex_);
    auto& sinks = logger->sinks();
    if (std::find(sinks.begin(), sinks.end(), sink_) == sinks.end()) sinks.push_back(sink_);
    Levels levels;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        levels = levels_;
    }
    apply_to(*logger, levels);
}

void LogTap::apply_levels() {
    std::lock_guard<std::mutex> apply(apply_mutex_);
    Levels levels;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        levels = levels_;
    }
    // Loggers created later get the global level from spdlog, then attach() sets theirs.
    spdlog::set_level(levels.file);
    spdlog::apply_all([&](const std::shared_ptr<spdlog::logger>& l) { apply_to(*l, levels); });
}

void LogTap::set_file_level(spdlog::level::level_enum level) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        levels_.file = level;
    }
    apply_levels();
}

void LogTap::set_stream_level(std::optional<spdlog::level::level_enum> level) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (levels_.stream == level) return;
        levels_.stream = level;
        if (!level) {
            // Nothing streams: what waits would be published when it streams again, stale.
            pending_.clear();
            dropped_ = 0;
        }
    }
    apply_levels();
}

void LogTap::set_component_level(const std::string& component_id,
                                 std::optional<spdlog::level::level_enum> level) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (level) {
            levels_.components[component_id] = *level;
        } else {
            levels_.components.erase(component_id);
        }
    }
    apply_levels();
}

std::optional<spdlog::level::level_enum> LogTap::component_level(
    const std::string& component_id) const {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = levels_.components.find(component_id);
    if (it == levels_.components.end()) return std::nullopt;
    return it->second;
}

void LogTap::set_secrets(std::vector<std::string> secrets) {
    std::lock_guard<std::mutex> lock(mutex_);
    secrets_ = std::move(secrets);
}

std::string LogTap::plugin_line(std::string_view text) const {
    std::vector<std::string> secrets;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        secrets = secrets_;
    }
    return escape_control_characters(redact_log_text(cut(text, kMaxMessageBytes), secrets));
}

void LogTap::on_line(const spdlog::details::log_msg& message) {
    const std::string_view name(message.logger_name.data(), message.logger_name.size());
    std::string logger = logger_of(name);
    bool keep = false;
    bool stream = false;
    std::vector<std::string> secrets;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        keep = message.level >= file_threshold(levels_, logger);
        const auto threshold = stream_threshold(levels_, logger);
        stream = !t_muted && threshold && message.level >= *threshold;
        if (!keep && !stream) return;
        if (stream && pending_.size() >= kPendingLines && !keep) {
            ++dropped_;  // the stream's queue is full: counted, not waited for
            queued_.notify_all();
            return;
        }
        secrets = secrets_;
    }
    // Redacted outside the lock: a long line costs its own thread only.
    LogLine line{
        message.time, message.level, std::move(logger),
        redact_log_text(
            cut(std::string_view(message.payload.data(), message.payload.size()), kMaxMessageBytes),
            secrets)};
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (stream && levels_.stream) {
            if (pending_.size() >= kPendingLines) {
                ++dropped_;
            } else {
                pending_.push_back({dropped_, line});
                dropped_ = 0;
            }
        }
        if (keep) {
            ring_.push_back(std::move(line));
            if (ring_.size() > kRingLines) ring_.pop_front();
        }
    }
    if (stream) queued_.notify_all();
}

std::vector<LogLine> LogTap::kept(std::size_t n, spdlog::level::level_enum min,
                                  const std::optional<std::string>& logger) const {
    std::vector<LogLine> lines;
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto it = ring_.rbegin(); it != ring_.rend() && lines.size() < n; ++it) {
        if (it->level < min) continue;
        if (logger && it->logger != *logger) continue;
        lines.push_back(*it);
    }
    std::reverse(lines.begin(), lines.end());
    return lines;
}

LogTap::Taken LogTap::take(std::size_t max) {
    Taken taken;
    std::lock_guard<std::mutex> lock(mutex_);
    if (pending_.empty()) {
        taken.dropped = std::exchange(dropped_, 0);
        return taken;
    }
    taken.dropped = pending_.front().dropped_before;
    while (!pending_.empty() && taken.lines.size() < max &&
           (taken.lines.empty() || pending_.front().dropped_before == 0)) {
        taken.lines.push_back(std::move(pending_.front().line));
        pending_.pop_front();
    }
    return taken;
}

bool LogTap::wait_for(std::size_t count, std::chrono::steady_clock::time_point deadline) {
    std::unique_lock<std::mutex> lock(mutex_);
    const bool ready = queued_.wait_until(lock, deadline, [&] {
        return interrupted_ || pending_.size() >= count || (count > 0 && dropped_ > 0);
    });
    interrupted_ = false;
    return ready && (pending_.size() >= count || (count > 0 && dropped_ > 0));
}

void LogTap::interrupt() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        interrupted_ = true;
    }
    queued_.notify_all();
}

}  // namespace lucid::host
