#include "telemetry/telemetry_config.hpp"

#include "lucid/registry/echoed_value.hpp"

namespace lucid::host::telemetry {
namespace {

using rapidjson::Value;

constexpr int kMinInterval = 1;
constexpr int kMaxInterval = 86400;

std::string unknown(const std::string& path) {
    return "unknown config key: " + registry::echoed_value(path);
}

std::string merge_metric(MetricSettings& settings, const std::string& path, const Value& value) {
    if (!value.IsObject()) return path + " must be dict";
    for (const auto& field : value.GetObject()) {
        const std::string name(field.name.GetString(), field.name.GetStringLength());
        const std::string where = path + "." + name;
        const Value& v = field.value;
        if (name == "enabled") {
            if (!v.IsBool()) return where + " must be bool";
            settings.enabled = v.GetBool();
        } else if (name == "interval_s") {
            if (!v.IsInt64()) return where + " must be int";
            if (v.GetInt64() < kMinInterval || v.GetInt64() > kMaxInterval) {
                return where + " must be between 1 and 86400";
            }
            settings.interval_s = static_cast<int>(v.GetInt64());
        } else if (name == "change_threshold_percent") {
            if (v.IsNull()) {
                settings.change_threshold_percent.reset();
            } else if (!v.IsNumber()) {
                return where + " must be number";
            } else if (v.GetDouble() < 0) {
                return where + " must be at least 0";
            } else {
                settings.change_threshold_percent = v.GetDouble();
            }
        } else {
            return unknown(where);
        }
    }
    return {};
}

}  // namespace

const MetricInfo* find_metric(std::string_view name) {
    for (const auto& m : kMetrics) {
        if (m.name == name) return &m;
    }
    return nullptr;
}

MetricSettings TelemetryConfig::of(std::string_view metric) const {
    const auto it = metrics.find(std::string(metric));
    return it == metrics.end() ? MetricSettings{} : it->second;
}

bool TelemetryConfig::operator==(const TelemetryConfig& o) const {
    for (const auto& info : kMetrics) {
        if (!(of(info.name) == o.of(info.name))) return false;
    }
    return true;
}

std::string merge_telemetry(TelemetryConfig& config, const Value& value) {
    if (!value.IsObject()) return "telemetry must be dict";
    for (const auto& member : value.GetObject()) {
        const std::string name(member.name.GetString(), member.name.GetStringLength());
        if (name != "metrics") return unknown("telemetry." + name);
        if (!member.value.IsObject()) return "telemetry.metrics must be dict";
        for (const auto& metric : member.value.GetObject()) {
            const std::string id(metric.name.GetString(), metric.name.GetStringLength());
            if (!find_metric(id)) return unknown("telemetry.metrics." + id);
            MetricSettings settings = config.of(id);
            if (auto error = merge_metric(settings, "telemetry.metrics." + id, metric.value);
                !error.empty()) {
                return error;
            }
            config.metrics[id] = settings;
        }
    }
    return {};
}

void write_telemetry(const TelemetryConfig& config, Value& out,
                     rapidjson::Document::AllocatorType& allocator) {
    out.SetObject();
    Value metrics(rapidjson::kObjectType);
    for (const auto& info : kMetrics) {
        const MetricSettings s = config.of(info.name);
        Value m(rapidjson::kObjectType);
        m.AddMember("enabled", s.enabled, allocator);
        m.AddMember("interval_s", s.interval_s, allocator);
        m.AddMember("change_threshold_percent",
                    s.change_threshold_percent ? Value(*s.change_threshold_percent) : Value(),
                    allocator);
        metrics.AddMember(Value(std::string(info.name), allocator), m, allocator);
    }
    out.AddMember("metrics", metrics, allocator);
}

}  // namespace lucid::host::telemetry
