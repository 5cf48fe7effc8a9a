// The envelope a plugin's publish_event() is wrapped in (contract §5.3):
//   {"id","type","ts","source","correlation_id","data"}
// Pure; thread-safe. Errors: returned, never thrown.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace lucid::host {

struct EventFields {
    std::string id;      // unique per event (new_event_id())
    std::string type;    // the plugin's event type, also the last topic level
    std::string ts;      // contract::utc_timestamp()
    std::string source;  // "{base}/components/{cid}"
    std::optional<std::string> correlation_id;  // null when absent
};

struct EnvelopeResult {
    std::string payload;  // the JSON text when ok()
    std::string error;    // e.g. "event data is not valid JSON"
    bool ok() const { return error.empty(); }
};

// `data_json` must be one JSON value; empty means null.
EnvelopeResult event_envelope(const EventFields& fields, std::string_view data_json);

// A random UUID (version 4) text; thread-safe.
std::string new_event_id();

// An event type is one topic level: non-empty, no '/', '+', '#' or NUL.
bool is_valid_event_type(std::string_view type);

// A plugin's metric name (publish_metric; telemetry.components.<cid>.<metric>): the pattern of
// component ids, [a-z0-9][a-z0-9_-]{0,63}, so that it is one topic level and one part of a
// dotted config path.
bool is_valid_metric_name(std::string_view metric);

}  // namespace lucid::host
