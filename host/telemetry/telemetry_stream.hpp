// The agent's telemetry streams (contract §4.14): each enabled metric published on
// `{root}/{agent}/telemetry/{metric}` (QoS 0, not retained) in the envelope of plugin events
// (`type` the metric, `source` `{root}/{agent}/telemetry`, `data` {"value", "unit"}) every
// `interval_s`, and early when it moved by `change_threshold_percent` relative to the value last
// published, never more than once a second.
//
//   TelemetryStream stream(SystemMetrics({...}), base, publish);
//   stream.configure(true, config.telemetry);   // at start and after each cfg/set
//   stream.start(); ... stream.stop();
//
// One thread wakes once a second while any metric is on, and sleeps until configure() or stop()
// otherwise. Thread: configure() and stop() from any thread; `publish` runs on the stream's.
#pragma once

#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "telemetry/system_metrics.hpp"
#include "telemetry/telemetry_config.hpp"

namespace lucid::host::telemetry {

class TelemetryStream {
  public:
    // (topic suffix "telemetry/<metric>", payload)
    using Publish = std::function<void(const std::string&, const std::string&)>;

    TelemetryStream(SystemMetrics metrics, std::string base, Publish publish);
    ~TelemetryStream();  // stop()
    TelemetryStream(const TelemetryStream&) = delete;
    TelemetryStream& operator=(const TelemetryStream&) = delete;

    void configure(bool enabled, TelemetryConfig config);
    void start();
    void stop();

  private:
    using Clock = SystemMetrics::Clock;
    struct Published {
        std::optional<double> value;          // the last value published
        std::optional<Clock::time_point> at;  // when
        bool read_once = false;               // a rate has its first sample
    };

    void run();
    void tick(Clock::time_point scheduled, const TelemetryConfig& config);
    void publish(const MetricInfo& metric, double value);

    SystemMetrics metrics_;
    const std::string source_;
    Publish publish_;

    std::mutex mutex_;
    std::condition_variable wake_;
    bool enabled_ = false;
    TelemetryConfig config_;
    bool stopping_ = false;
    std::map<std::string, Published> published_;  // the stream thread's only
    std::thread thread_;
};

}  // namespace lucid::host::telemetry
