// The agent's log over MQTT (contract §4.15): the lines the LogTap queues for the stream,
// published on `{root}/{agent}/logs` (QoS 0, not retained, only while connected) in batches
// `{"schema", "ts", "lines": [{"ts", "level", "logger", "message"}], "dropped": N}`: a message
// when kBatchLines lines are waiting, or kBatchWindow after the first of them. At most
// kLinesPerSecond lines a second leave the agent (a token bucket of a second's worth): in a flood
// the publisher waits for its rate while the tap's bounded queue takes what it can, and
// `dropped` counts the lines lost since the previous message (to the tap's queue, or while
// disconnected).
//
// The stream is on while `logs_enabled` (at `logs_level`) or a temporary stream
// (`core/cmd/logs/stream`, at most kMaxStreamSeconds; several add up, the lowest level wins) is.
//
//   LogStream stream(LogTap::instance(), publish);
//   stream.configure(true, spdlog::level::info);   // at start and after each cfg/set
//   stream.start(); ... stream.stop();
//
// One thread; it never logs a line that could be streamed (LogTap::mute_this_thread), so
// publishing a line never produces another. Thread: configure(), stream_for() and stop() from any
// thread; `publish` runs on the stream's thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/log_tap.hpp"

namespace lucid::host::agent {

class LogStream {
  public:
    static constexpr std::size_t kBatchLines = 50;
    static constexpr std::chrono::milliseconds kBatchWindow{250};
    static constexpr double kLinesPerSecond = 500;

    // Publishes one message; false when it cannot (not connected): its lines count as dropped.
    using Publish = std::function<bool(const std::string& payload)>;

    LogStream(LogTap& tap, Publish publish);
    ~LogStream();  // stop()
    LogStream(const LogStream&) = delete;
    LogStream& operator=(const LogStream&) = delete;

    void configure(bool enabled, spdlog::level::level_enum level);
    // A temporary stream at `level` for `seconds`; returns when it ends.
    std::chrono::system_clock::time_point stream_for(spdlog::level::level_enum level,
                                                     std::chrono::seconds seconds);
    void start();
    void stop();

    // The payload of one message (pure; for tests).
    static std::string payload(const std::vector<LogLine>& lines, std::uint64_t dropped,
                               std::chrono::system_clock::time_point now);

  private:
    using Steady = std::chrono::steady_clock;
    void run();
    // The stream level now (expired temporary streams forgotten, their levels added to
    // `ended`); the next expiry, if any. Under mutex_.
    std::optional<spdlog::level::level_enum> level_now(
        Steady::time_point now, std::optional<Steady::time_point>& next,
        std::vector<spdlog::level::level_enum>* ended = nullptr);
    void publish_batch();
    // Gives the tap the stream level in force now. Under mutex_.
    void apply_level();
    // Adds the tokens earned since the last refill (at most a second's worth).
    void refill(Steady::time_point now);

    LogTap& tap_;
    Publish publish_;

    std::mutex mutex_;
    std::condition_variable changed_;
    bool stopping_ = false;
    bool enabled_ = false;
    spdlog::level::level_enum level_ = spdlog::level::info;
    std::map<spdlog::level::level_enum, Steady::time_point> temporary_;  // level → its end
    std::thread thread_;

    // The stream thread's only.
    double tokens_ = kLinesPerSecond;
    Steady::time_point refilled_ = Steady::now();
    std::uint64_t carried_dropped_ = 0;
    bool say_cut_ = false;  // the last message's lines were cut by the rate: say so at once
};

}  // namespace lucid::host::agent
