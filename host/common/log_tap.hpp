// The agent's log as data (contract §4.15): every logger of logging.hpp writes to its stderr sink
// (the log file) and to this tap, which keeps the last kRingLines lines of the log file in memory
// (`core/cmd/logs/get`, lucidctl logs) and queues the lines for the `logs` stream
// (agent/log_stream.hpp takes them).
//
// Levels, per logger: the file gets a line at or above `log_level` (set_file_level), or the
// component's own level for a plugin's logger (`plugin.<cid>`, set_component_level); the stream
// gets a line at or above the stream level (set_stream_level: `logs_level` or a temporary
// stream, nullopt when nothing streams), or the component's own level. Each logger's spdlog level
// is the lowest of the two, so a line nobody wants costs what spdlog's level check costs.
//
// A line's `logger` is `core` for the agent's own loggers and the component id for `plugin.<cid>`;
// its text is cut to kMaxMessageBytes and redacted (log_redaction.hpp, with set_secrets()).
//
// Never blocking the caller: a line is copied under a short mutex and the queue for the stream is
// bounded (kPendingLines; beyond, lines are counted as dropped). Never recursing: a thread that
// called mute_this_thread() (the stream's publisher) is never queued for the stream.
//
// Thread: everything from any thread. Errors: none thrown to a logging caller.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

namespace lucid::host {

struct LogLine {
    std::chrono::system_clock::time_point ts;
    spdlog::level::level_enum level = spdlog::level::info;
    std::string logger;  // "core" or the component id
    std::string message;
};

class LogTap {
  public:
    static constexpr std::size_t kRingLines = 1000;
    static constexpr std::size_t kPendingLines = 1000;
    static constexpr std::size_t kMaxMessageBytes = 4096;

    // The one tap of the process (loggers are process-wide).
    static LogTap& instance();

    // Adds the tap to a logger created by logging.hpp and gives it its levels.
    void attach(const std::shared_ptr<spdlog::logger>& logger);

    void set_file_level(spdlog::level::level_enum level);
    void set_stream_level(std::optional<spdlog::level::level_enum> level);
    // nullopt: the component follows log_level and the stream level again.
    void set_component_level(const std::string& component_id,
                             std::optional<spdlog::level::level_enum> level);
    std::optional<spdlog::level::level_enum> component_level(const std::string& component_id) const;
    void set_secrets(std::vector<std::string> secrets);
    // A plugin's text as its log line: cut to kMaxMessageBytes, redacted as every kept or
    // streamed line is (log_redaction.hpp, with the secrets) and on one line (control characters
    // escaped, escape_control_characters()): a plugin logging what it received cannot forge
    // lines of the agent's log file or drive the terminal of whoever reads it.
    std::string plugin_line(std::string_view text) const;

    // The last `n` kept lines at or above `min` (of `logger` when given), oldest first.
    std::vector<LogLine> kept(std::size_t n, spdlog::level::level_enum min,
                              const std::optional<std::string>& logger) const;

    struct Taken {
        std::vector<LogLine> lines;
        std::uint64_t dropped = 0;  // lines lost to the bounded queue just before `lines`
    };
    // Up to `max` lines queued for the stream, and the count of those lost just before the
    // first of them. A take ends before a line that lines were lost before, so a message's
    // `dropped` always says where the gap is: between the previous message and this one. Lost
    // lines with none queued after them are taken alone (`lines` empty).
    Taken take(std::size_t max);
    // Waits until at least `count` lines (or any drop) are queued, or `deadline`; true when so.
    bool wait_for(std::size_t count, std::chrono::steady_clock::time_point deadline);
    // Wakes wait_for() at once (the stream stopping or reconfigured).
    void interrupt();

    // Lines logged on the calling thread from now on are kept but never streamed.
    static void mute_this_thread();

    // The spdlog sink (internal; public for the sink class).
    void on_line(const spdlog::details::log_msg& message);

  private:
    LogTap();
    struct Levels {
        spdlog::level::level_enum file = spdlog::level::info;
        std::optional<spdlog::level::level_enum> stream;
        std::map<std::string, spdlog::level::level_enum, std::less<>> components;
    };
    // The component id of a plugin's logger name, else "core".
    static std::string logger_of(std::string_view logger_name);
    static spdlog::level::level_enum file_threshold(const Levels& levels, std::string_view logger);
    static std::optional<spdlog::level::level_enum> stream_threshold(const Levels& levels,
                                                                     std::string_view logger);
    // Gives every logger its levels (the stderr sink's and the logger's own).
    void apply_levels();
    void apply_to(spdlog::logger& logger, const Levels& levels) const;

    std::shared_ptr<spdlog::sinks::sink> sink_;
    std::mutex apply_mutex_;  // one apply_levels() at a time, in order
    mutable std::mutex mutex_;
    std::condition_variable queued_;
    Levels levels_;
    std::vector<std::string> secrets_;
    std::deque<LogLine> ring_;
    struct PendingLine {
        std::uint64_t dropped_before;  // lines lost between the one queued before and this one
        LogLine line;
    };
    std::deque<PendingLine> pending_;
    std::uint64_t dropped_ = 0;  // lost since the last line queued
    bool interrupted_ = false;
};

}  // namespace lucid::host
