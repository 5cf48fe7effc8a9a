#include "telemetry/telemetry_config.hpp"

#include "lucid/registry/echoed_value.hpp"
#include "lucid/registry/identifiers.hpp"

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

constexpr const char* kIdPattern = "[a-z0-9][a-z0-9_-]{0,63}";

// Component ids and plugins' metric names share the identifier rule (plugin/event_envelope.hpp
// is_valid_metric_name, which publish_metric checks). Not that function itself: this file is
// also built into the fuzz targets, which link no plugin host.
bool is_valid_name(const std::string& name) { return registry::is_valid_identifier(name); }

// `telemetry.components`: {<cid>: {<metric>: {fields} | null} | null}.
std::string merge_components(TelemetryConfig& config, const Value& value) {
    if (!value.IsObject()) return "telemetry.components must be dict";
    for (const auto& component : value.GetObject()) {
        const std::string cid(component.name.GetString(), component.name.GetStringLength());
        if (!is_valid_name(cid)) {
            return "component id '" + registry::echoed_value(cid) +
                   "' in telemetry.components must match " + kIdPattern;
        }
        const std::string path = "telemetry.components." + cid;
        if (component.value.IsNull()) {
            config.components.erase(cid);
            continue;
        }
        if (!component.value.IsObject()) return path + " must be dict";
        auto metrics = config.components.count(cid) ? config.components[cid]
                                                    : std::map<std::string, MetricSettings>{};
        for (const auto& metric : component.value.GetObject()) {
            const std::string name(metric.name.GetString(), metric.name.GetStringLength());
            if (!is_valid_name(name)) {
                return "metric name '" + registry::echoed_value(name) + "' in " + path +
                       " must match " + kIdPattern;
            }
            if (metric.value.IsNull()) {
                metrics.erase(name);
                continue;
            }
            MetricSettings settings = metrics.count(name) ? metrics[name] : MetricSettings{};
            if (auto error = merge_metric(settings, path + "." + name, metric.value);
                !error.empty()) {
                return error;
            }
            metrics[name] = settings;
            if (metrics.size() > kMaxComponentMetrics) {
                return "at most " + std::to_string(kMaxComponentMetrics) + " metrics in " + path;
            }
        }
        if (metrics.empty()) {
            config.components.erase(cid);
        } else {
            config.components[cid] = std::move(metrics);
        }
        if (config.components.size() > kMaxTelemetryComponents) {
            return "at most " + std::to_string(kMaxTelemetryComponents) +
                   " components in telemetry.components";
        }
    }
    return {};
}

void write_settings(const MetricSettings& s, Value& m,
                    rapidjson::Document::AllocatorType& allocator) {
    m.SetObject();
    m.AddMember("enabled", s.enabled, allocator);
    m.AddMember("interval_s", s.interval_s, allocator);
    m.AddMember("change_threshold_percent",
                s.change_threshold_percent ? Value(*s.change_threshold_percent) : Value(),
                allocator);
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

MetricSettings TelemetryConfig::of_component(const std::string& component_id,
                                             const std::string& metric) const {
    const auto c = components.find(component_id);
    if (c == components.end()) return MetricSettings{};
    const auto m = c->second.find(metric);
    return m == c->second.end() ? MetricSettings{} : m->second;
}

bool TelemetryConfig::operator==(const TelemetryConfig& o) const {
    for (const auto& info : kMetrics) {
        if (!(of(info.name) == o.of(info.name))) return false;
    }
    return components == o.components;
}

std::string merge_telemetry(TelemetryConfig& config, const Value& value) {
    if (!value.IsObject()) return "telemetry must be dict";
    for (const auto& member : value.GetObject()) {
        const std::string name(member.name.GetString(), member.name.GetStringLength());
        if (name == "components") {
            if (auto error = merge_components(config, member.value); !error.empty()) return error;
            continue;
        }
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
        Value m;
        write_settings(config.of(info.name), m, allocator);
        metrics.AddMember(Value(std::string(info.name), allocator), m, allocator);
    }
    out.AddMember("metrics", metrics, allocator);
    Value components(rapidjson::kObjectType);
    for (const auto& [cid, settings] : config.components) {
        Value c(rapidjson::kObjectType);
        for (const auto& [name, s] : settings) {
            Value m;
            write_settings(s, m, allocator);
            c.AddMember(Value(name, allocator), m, allocator);
        }
        components.AddMember(Value(cid, allocator), c, allocator);
    }
    out.AddMember("components", components, allocator);
}

}  // namespace lucid::host::telemetry
