#include "agent/core_config.hpp"

#include <array>
#include <string_view>
#include <system_error>

#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

#include "common/atomic_file.hpp"
#include "common/file_modes.hpp"
#include "common/log_levels.hpp"
#include "lucid/registry/echoed_value.hpp"
#include "lucid/registry/registry_json.hpp"

namespace lucid::host::agent {
namespace {

using rapidjson::Value;

constexpr int kMinHeartbeat = 5;
constexpr int kMaxHeartbeat = 3600;

// Applies one key to `config`; returns the contract error, or empty on success.
// Type names follow the earlier agent's messages (`heartbeat_s must be int`), which existing
// consumers of the contract match on.
std::string apply_key(CoreConfig& config, std::string_view key, const Value& value) {
    if (key == "heartbeat_s") {
        if (!value.IsInt64()) return "heartbeat_s must be int";
        const auto seconds = value.GetInt64();
        if (seconds < kMinHeartbeat || seconds > kMaxHeartbeat) {
            return "heartbeat_s must be between 5 and 3600";
        }
        config.heartbeat_s = static_cast<int>(seconds);
        return {};
    }
    if (key == "log_level") {
        if (!value.IsString()) return "log_level must be str";
        const auto level =
            parse_level_name(std::string_view(value.GetString(), value.GetStringLength()));
        if (!level) return "log_level must be one of " + std::string(kLevelNames);
        config.log_level = std::string(file_level_name(*level));  // the earlier agent's words
        return {};
    }
    if (key == "telemetry_enabled") {
        if (!value.IsBool()) return "telemetry_enabled must be bool";
        config.telemetry_enabled = value.GetBool();
        return {};
    }
    if (key == "telemetry") return telemetry::merge_telemetry(config.telemetry, value);
    if (key == "logs_enabled") {
        if (!value.IsBool()) return "logs_enabled must be bool";
        config.logs_enabled = value.GetBool();
        return {};
    }
    if (key == "logs_level") {
        if (!value.IsString()) return "logs_level must be str";
        const auto level =
            parse_level_name(std::string_view(value.GetString(), value.GetStringLength()));
        if (!level) return "logs_level must be one of " + std::string(kLevelNames);
        config.logs_level = std::string(stream_level_name(*level));
        return {};
    }
    if (key == "labels") {
        auto labels = contract::labels_from_json(value);
        if (!labels) return labels.error().message;
        config.labels = std::move(labels.value());
        return {};
    }
    // A client chooses the key: echo a bounded prefix, not megabytes, into the result.
    return "unknown config key: " + registry::echoed_value(key);
}

}  // namespace

bool CoreConfig::operator==(const CoreConfig& other) const {
    return heartbeat_s == other.heartbeat_s && log_level == other.log_level &&
           telemetry_enabled == other.telemetry_enabled && labels == other.labels &&
           telemetry == other.telemetry && logs_enabled == other.logs_enabled &&
           logs_level == other.logs_level;
}

CfgSetResult apply_cfg_set(const CoreConfig& current, const Value& payload) {
    CfgSetResult result;
    if (!payload.IsObject()) {
        result.error = "missing 'set' field in payload";
        return result;
    }
    auto set = payload.FindMember("set");
    if (set == payload.MemberEnd()) {
        result.error = "missing 'set' field in payload";
        return result;
    }
    if (!set->value.IsObject()) {
        result.error = "'set' must be an object";
        return result;
    }
    // Work on a copy: on any error the caller's config is untouched.
    CoreConfig merged = current;
    for (const auto& member : set->value.GetObject()) {
        const std::string_view key(member.name.GetString(), member.name.GetStringLength());
        if (std::string error = apply_key(merged, key, member.value); !error.empty()) {
            result.error = std::move(error);
            return result;
        }
    }
    result.config = merged;
    return result;
}

void write_core_config(const CoreConfig& config, Value& out,
                       rapidjson::Document::AllocatorType& allocator) {
    out.SetObject();
    out.AddMember("heartbeat_s", config.heartbeat_s, allocator);
    out.AddMember("log_level", Value(config.log_level, allocator), allocator);
    out.AddMember("telemetry_enabled", config.telemetry_enabled, allocator);
    Value telemetry;
    telemetry::write_telemetry(config.telemetry, telemetry, allocator);
    out.AddMember("telemetry", telemetry, allocator);
    out.AddMember("logs_enabled", config.logs_enabled, allocator);
    out.AddMember("logs_level", Value(config.logs_level, allocator), allocator);
    // Only once set by cfg/set: until then the agent's LUCID_LABELS apply, and a stored copy of
    // them would outlive a change of the environment.
    if (config.labels) {
        out.AddMember("labels", contract::labels_to_json(*config.labels, allocator), allocator);
    }
}

CoreConfigStore::CoreConfigStore(std::filesystem::path data_dir)
    : path_(std::move(data_dir) / "core_config.json") {}

CoreConfig CoreConfigStore::load(std::string* problem) const {
    std::error_code ec;
    if (!std::filesystem::exists(path_, ec)) return {};
    auto report = [&](const std::string& what) {
        // A read-only data directory: the agent starts all the same.
        const std::string where = move_aside_saying(path_, "corrupt");
        if (problem) *problem = what + "; " + where + ", using defaults";
        return CoreConfig{};
    };
    rapidjson::Document doc;
    try {
        doc = registry::parse_json_object(read_file(path_), path_.filename().string());
    } catch (const registry::CorruptRegistry& e) {
        return report(e.what());
    }
    // The stored file is validated by the same rules as a cfg/set: a hand-edited bad value is
    // refused as a whole rather than half applied.
    Value wrapper(rapidjson::kObjectType);
    wrapper.AddMember("set", doc, doc.GetAllocator());
    CfgSetResult result = apply_cfg_set(CoreConfig{}, wrapper);
    if (!result.config) return report(path_.filename().string() + " is invalid: " + result.error);
    return *result.config;
}

void CoreConfigStore::save(const CoreConfig& config) const {
    make_directories(path_.parent_path());
    write_file_atomically(path_, text(config));
}

std::string CoreConfigStore::text(const CoreConfig& config) {
    rapidjson::Document doc;
    write_core_config(config, doc, doc.GetAllocator());
    rapidjson::StringBuffer buffer;
    rapidjson::PrettyWriter<rapidjson::StringBuffer> writer(buffer);
    writer.SetIndent(' ', 2);
    doc.Accept(writer);
    return std::string(buffer.GetString(), buffer.GetSize()) + "\n";
}

}  // namespace lucid::host::agent
