// The metrics plugins publish (publish_metric, ABI 1.1; contract §4.14), governed like the
// agent's own: `telemetry_enabled` is the master switch, and
// `telemetry.components.<component_id>.<metric>` {enabled, interval_s, change_threshold_percent}
// (off until enabled) says which readings go out on `components/{cid}/telemetry/{metric}`.
//
// A plugin pushes every reading it has; this gate publishes the first one once the metric is
// on, then one at most every interval_s, and one earlier when it moved by the threshold relative
// to the value last published (never twice within a second). Everything else is dropped: the
// host never repeats a value of its own accord.
//
//   ComponentMetrics metrics(topics.base(), publish);
//   metrics.configure(config.telemetry_enabled, config.telemetry);   // start, every cfg/set
//   metrics.offer("sensor", "temperature_c", 21.5, "celsius");       // plugin threads
//
// Thread: every member from any thread; `publish` runs on the caller of offer(), outside the
// lock. Memory: one entry per enabled (component, metric) at most.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

#include "telemetry/telemetry_config.hpp"

namespace lucid::host::telemetry {

// How early a plugin's reading may come and still count as due for its interval.
inline constexpr std::chrono::milliseconds kOfferJitter{50};

class ComponentMetrics {
  public:
    using Clock = std::chrono::steady_clock;
    // (topic relative to the base, "components/<cid>/telemetry/<metric>", payload): false when
    // it could not be queued.
    using Publish = std::function<bool(const std::string&, const std::string&)>;

    ComponentMetrics(std::string base, Publish publish);

    void configure(bool enabled, TelemetryConfig config);
    // One reading of a plugin (the name and the value checked by the caller). False only when
    // it was due and `publish` failed.
    bool offer(const std::string& component_id, const std::string& metric, double value,
               const std::string& unit);
    // The same with the time given (tests).
    bool offer(const std::string& component_id, const std::string& metric, double value,
               const std::string& unit, Clock::time_point now);

  private:
    struct Published {
        double value = 0;
        Clock::time_point at;
    };

    const std::string base_;
    Publish publish_;
    std::mutex mutex_;
    bool enabled_ = false;
    TelemetryConfig config_;
    std::map<std::pair<std::string, std::string>, Published> published_;
};

}  // namespace lucid::host::telemetry
