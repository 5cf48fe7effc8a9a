#include "telemetry/metric_publication.hpp"

#include <cmath>
#include <cstdint>
#include <optional>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "contract/timestamp.hpp"
#include "contract/utf8.hpp"
#include "plugin/event_envelope.hpp"

namespace lucid::host::telemetry {

std::string metric_payload(std::string_view metric, double value, std::string_view unit,
                           const std::string& source, std::chrono::system_clock::time_point now) {
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
    w.StartObject();
    w.Key("value");
    // Two decimals are more than any of these carries; integers stay integers.
    const double rounded = std::round(value * 100.0) / 100.0;
    if (rounded == std::floor(rounded) && std::fabs(rounded) < 9e15) {
        w.Int64(static_cast<std::int64_t>(rounded));
    } else {
        w.Double(rounded);
    }
    w.Key("unit");
    // A plugin's unit is its own text: kept valid UTF-8 as every payload (contract §3.1).
    const std::string text = contract::to_valid_utf8(unit);
    w.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
    w.EndObject();
    const auto envelope = event_envelope(
        {new_event_id(), std::string(metric), contract::utc_timestamp(now), source, std::nullopt},
        std::string_view(buffer.GetString(), buffer.GetSize()));
    return envelope.payload;
}

bool moved_by(double last, double now, double threshold) {
    if (last == 0) return now != 0;
    return std::fabs(now - last) / std::fabs(last) * 100.0 >= threshold;
}

}  // namespace lucid::host::telemetry
