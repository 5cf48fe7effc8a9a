#include "agent/log_requests.hpp"

#include <string_view>

#include "common/log_levels.hpp"
#include "lucid/registry/identifiers.hpp"

namespace lucid::host::agent {
namespace {

const rapidjson::Value* member(const rapidjson::Value& payload, const char* name) {
    if (!payload.IsObject()) return nullptr;
    auto it = payload.FindMember(name);
    return it == payload.MemberEnd() ? nullptr : &it->value;
}

std::optional<spdlog::level::level_enum> level_of(const rapidjson::Value& value) {
    if (!value.IsString()) return std::nullopt;
    return parse_stream_level(std::string_view(value.GetString(), value.GetStringLength()));
}

std::string level_error(std::string_view field) {
    return "validation_error: '" + std::string(field) + "' must be one of " +
           std::string(kStreamLevelNames);
}

// The optional "level" field of a logs request into `request.level`; false (and
// `request.error` set) when it is not a level.
template <typename Request>
bool take_level(const rapidjson::Value& payload, Request& request) {
    const auto* level = member(payload, "level");
    if (!level) return true;
    const auto parsed = level_of(*level);
    if (!parsed) {
        request.error = level_error("level");
        return false;
    }
    request.level = *parsed;
    return true;
}

}  // namespace

LogsGetRequest parse_logs_get(const rapidjson::Value& payload) {
    LogsGetRequest request;
    if (const auto* n = member(payload, "n")) {
        if (!n->IsInt64() || n->GetInt64() < 1 ||
            n->GetInt64() > static_cast<std::int64_t>(kMaxLogsGetLines)) {
            request.error = "validation_error: 'n' must be an integer from 1 to 1000";
            return request;
        }
        request.n = static_cast<std::size_t>(n->GetInt64());
    }
    if (!take_level(payload, request)) return request;
    if (const auto* component = member(payload, "component")) {
        const std::string text = component->IsString() ? std::string(component->GetString(),
                                                                     component->GetStringLength())
                                                       : std::string();
        if (!component->IsString() || !registry::is_valid_identifier(text)) {
            request.error =
                "validation_error: 'component' must be core or a component id "
                "([a-z0-9][a-z0-9_-]{0,63})";
            return request;
        }
        request.component = text;
    }
    return request;
}

LogsStreamRequest parse_logs_stream(const rapidjson::Value& payload) {
    LogsStreamRequest request;
    if (!take_level(payload, request)) return request;
    if (const auto* seconds = member(payload, "seconds")) {
        if (!seconds->IsInt64() || seconds->GetInt64() < 1 ||
            seconds->GetInt64() > kMaxStreamSeconds) {
            request.error = "validation_error: 'seconds' must be an integer from 1 to 3600";
            return request;
        }
        request.seconds = static_cast<int>(seconds->GetInt64());
    }
    return request;
}

ComponentLogLevelRequest parse_component_log_level(const rapidjson::Value& payload) {
    ComponentLogLevelRequest request;
    const auto* level = member(payload, "log_level");
    if (!level) {
        request.error = "missing 'log_level' field in payload";
        return request;
    }
    if (level->IsNull()) return request;
    // "default" clears it as null does, for clients that cannot send a null.
    if (level->IsString() && is_default_level(level->GetString())) return request;
    if (!level->IsString()) {
        request.error = "log_level must be str";
        return request;
    }
    request.level = level_of(*level);
    if (!request.level) {
        request.error = "log_level must be one of " + std::string(kLevelNames) +
                        ", or default (or null) for none";
    }
    return request;
}

}  // namespace lucid::host::agent
