// What the agent's metrics (telemetry_stream.hpp) and the plugins' metrics
// (component_metrics.hpp) share, so that a consumer cannot tell them apart (contract §4.14):
// the envelope of a published value and the threshold rule.
//
//   metric_payload("cpu_percent", 12.345, "%", "lucid/agents/a1/telemetry", now)
//   // {"id":"…","type":"cpu_percent","ts":"…","source":"lucid/agents/a1/telemetry",
//   //  "correlation_id":null,"data":{"value":12.35,"unit":"%"}}
//
// Pure; thread-safe. Errors: none (a value that cannot be written is the caller's to refuse:
// only finite numbers reach here).
#pragma once

#include <chrono>
#include <string>
#include <string_view>

namespace lucid::host::telemetry {

// The event envelope (plugin/event_envelope.hpp) of one value: `type` the metric, `data`
// {"value" (rounded to two decimals, integers stay integers), "unit"}.
std::string metric_payload(std::string_view metric, double value, std::string_view unit,
                           const std::string& source, std::chrono::system_clock::time_point now);

// Moved by at least `threshold` percent of the last published value (a value moving off zero
// always counts).
bool moved_by(double last, double now, double threshold);

// Never more than one early publication a second (change_threshold_percent).
inline constexpr std::chrono::seconds kEarliestRepeat{1};

}  // namespace lucid::host::telemetry
