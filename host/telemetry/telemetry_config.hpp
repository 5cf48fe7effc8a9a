// Which device metrics the agent streams (contract §4.14): `telemetry.metrics.<metric>` in the
// runtime config (`core/cfg/set`, `core/cfg/state`), each with `enabled`, `interval_s`
// (1-86400) and `change_threshold_percent` (>= 0, or null: none). Every metric is off until
// enabled; `telemetry_enabled` stays the master switch. The metrics plugins publish
// (publish_metric, ABI 1.1) take the same three fields under
// `telemetry.components.<component_id>.<metric>`.
//
// A cfg/set's `telemetry` object merges into the stored one: a metric's fields not named keep
// their value. Errors are the contract's exact strings, with the path of the value:
//   telemetry must be dict | telemetry.metrics must be dict | unknown config key: telemetry.<k>
//   unknown config key: telemetry.metrics.<m> | telemetry.metrics.<m> must be dict
//   telemetry.metrics.<m>.enabled must be bool | ….interval_s must be int
//   ….interval_s must be between 1 and 86400 | ….change_threshold_percent must be number
//   ….change_threshold_percent must be at least 0 | unknown config key: telemetry.metrics.<m>.<f>
//   telemetry.components must be dict | telemetry.components.<c> must be dict
//   component id '<c>' in telemetry.components must match [a-z0-9][a-z0-9_-]{0,63}
//   metric name '<m>' in telemetry.components.<c> must match [a-z0-9][a-z0-9_-]{0,63}
//   at most 64 metrics in telemetry.components.<c> | at most 256 components in
//   telemetry.components | telemetry.components.<c>.<m> … (the metric errors above)
// A null component or metric removes its settings (back to the defaults: off).
//
// Pure; thread-safe.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include <rapidjson/document.h>

#include "contract/agent_metrics.hpp"

namespace lucid::host::telemetry {

using contract::MetricInfo;
// Every metric the agent knows, in the order core/cfg/state lists them.
inline constexpr const auto& kMetrics = contract::kAgentMetrics;

const MetricInfo* find_metric(std::string_view name);

struct MetricSettings {
    bool enabled = false;
    int interval_s = 60;
    std::optional<double> change_threshold_percent;  // none: only the interval

    bool operator==(const MetricSettings& o) const {
        return enabled == o.enabled && interval_s == o.interval_s &&
               change_threshold_percent == o.change_threshold_percent;
    }
};

inline constexpr std::size_t kMaxComponentMetrics = 64;  // per component
inline constexpr std::size_t kMaxTelemetryComponents = 256;

struct TelemetryConfig {
    std::map<std::string, MetricSettings> metrics;  // only those ever set; others: defaults
    // component id -> metric -> settings; only those set (and not removed).
    std::map<std::string, std::map<std::string, MetricSettings>> components;

    MetricSettings of(std::string_view metric) const;
    MetricSettings of_component(const std::string& component_id, const std::string& metric) const;
    // By what each metric's settings are (a metric never set equals one set to the defaults).
    bool operator==(const TelemetryConfig& o) const;
};

// Merges the `telemetry` value of a cfg/set into `config`; returns the first error, or "".
std::string merge_telemetry(TelemetryConfig& config, const rapidjson::Value& value);

// {"metrics": {<every metric>: {"enabled", "interval_s", "change_threshold_percent"}},
//  "components": {<cid>: {<metric>: {the same three}}}}  (those set only)
void write_telemetry(const TelemetryConfig& config, rapidjson::Value& out,
                     rapidjson::Document::AllocatorType& allocator);

}  // namespace lucid::host::telemetry
