// Which device metrics the agent streams (contract §4.14): `telemetry.metrics.<metric>` in the
// runtime config (`core/cfg/set`, `core/cfg/state`), each with `enabled`, `interval_s`
// (1-86400) and `change_threshold_percent` (>= 0, or null: none). Every metric is off until
// enabled; `telemetry_enabled` stays the master switch.
//
// A cfg/set's `telemetry` object merges into the stored one: a metric's fields not named keep
// their value. Errors are the contract's exact strings, with the path of the value:
//   telemetry must be dict | telemetry.metrics must be dict | unknown config key: telemetry.<k>
//   unknown config key: telemetry.metrics.<m> | telemetry.metrics.<m> must be dict
//   telemetry.metrics.<m>.enabled must be bool | ….interval_s must be int
//   ….interval_s must be between 1 and 86400 | ….change_threshold_percent must be number
//   ….change_threshold_percent must be at least 0 | unknown config key: telemetry.metrics.<m>.<f>
//
// Pure; thread-safe.
#pragma once

#include <array>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include <rapidjson/document.h>

namespace lucid::host::telemetry {

struct MetricInfo {
    std::string_view name;  // the topic level: telemetry/<name>
    std::string_view unit;  // data.unit
};

// Every metric the agent knows, in the order core/cfg/state lists them.
inline constexpr std::array<MetricInfo, 8> kMetrics{{
    {"cpu_percent", "%"},
    {"memory_percent", "%"},
    {"disk_percent", "%"},
    {"load1", "load"},
    {"temperature_c", "celsius"},
    {"net_rx_bytes_per_s", "bytes/s"},
    {"net_tx_bytes_per_s", "bytes/s"},
    {"agent_rss_bytes", "bytes"},
}};

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

struct TelemetryConfig {
    std::map<std::string, MetricSettings> metrics;  // only those ever set; others: defaults

    MetricSettings of(std::string_view metric) const;
    // By what each metric's settings are (a metric never set equals one set to the defaults).
    bool operator==(const TelemetryConfig& o) const;
};

// Merges the `telemetry` value of a cfg/set into `config`; returns the first error, or "".
std::string merge_telemetry(TelemetryConfig& config, const rapidjson::Value& value);

// {"metrics": {<every metric>: {"enabled", "interval_s", "change_threshold_percent"}}}
void write_telemetry(const TelemetryConfig& config, rapidjson::Value& out,
                     rapidjson::Document::AllocatorType& allocator);

}  // namespace lucid::host::telemetry
