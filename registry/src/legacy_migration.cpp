#include "lucid/registry/legacy_migration.hpp"

#include <stdexcept>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "json_text.hpp"
#include "lucid/registry/dist_name.hpp"
#include "lucid/registry/identifiers.hpp"

namespace lucid::registry {
namespace {

using rapidjson::Value;

std::optional<std::string> optional_string(const Value& object, const char* name) {
    auto it = object.FindMember(name);
    if (it == object.MemberEnd() || it->value.IsNull()) return std::nullopt;
    if (!it->value.IsString()) {
        throw std::invalid_argument(std::string("field '") + name + "' must be a string");
    }
    return std::string(it->value.GetString(), it->value.GetStringLength());
}

std::string string_or_empty(const Value& object, const char* name) {
    return optional_string(object, name).value_or("");
}

std::string escape_json(std::string_view s) {
    Value v(rapidjson::StringRef(s.data(), s.size()));
    return to_json_text(v);
}

std::string source_to_json(const LegacySource& s) {
    if (s.type == "github_release") {
        return "{\"type\":\"github_release\",\"owner\":" + escape_json(s.owner) +
               ",\"repo\":" + escape_json(s.repo) + ",\"tag\":" + escape_json(s.tag) +
               ",\"asset\":" + escape_json(s.asset) + "}";
    }
    return "{\"type\":" + escape_json(s.type) + ",\"url\":" + escape_json(s.url) + "}";
}

// Splits `https://github.com/{owner}/{repo}/releases/download/{tag}/{asset}`.
std::optional<LegacySource> github_source_from_url(std::string_view url) {
    constexpr std::string_view prefix = "https://github.com/";
    if (url.substr(0, prefix.size()) != prefix) return std::nullopt;
    std::vector<std::string> parts;
    std::string_view rest = url.substr(prefix.size());
    while (!rest.empty()) {
        auto slash = rest.find('/');
        parts.emplace_back(rest.substr(0, slash));
        if (slash == std::string_view::npos) break;
        rest = rest.substr(slash + 1);
    }
    if (parts.size() != 6 || parts[2] != "releases" || parts[3] != "download") return std::nullopt;
    return LegacySource{"github_release", parts[0], parts[1], parts[4], parts[5], std::string(url)};
}

}  // namespace

LegacyEntry read_legacy_entry(std::string_view component_id, const Value& value) {
    if (!value.IsObject()) {
        throw std::invalid_argument(std::string("entry is ") + (value.IsArray() ? "an array"
                                                                : value.IsString()
                                                                    ? "a string"
                                                                    : "not an object"));
    }
    if (auto error = identifier_error("component_id", component_id)) {
        throw std::invalid_argument(*error);
    }
    LegacyEntry entry;
    entry.component_id = std::string(component_id);
    entry.repo = string_or_empty(value, "repo");
    entry.version = string_or_empty(value, "version");
    entry.wheel_url = string_or_empty(value, "wheel_url");
    entry.entrypoint = string_or_empty(value, "entrypoint");
    entry.installed_at = string_or_empty(value, "installed_at");
    entry.sha256 = optional_string(value, "sha256");
    entry.dist_name = optional_string(value, "dist_name");
    if (entry.version.empty()) throw std::invalid_argument("missing field 'version'");
    if (auto it = value.FindMember("source"); it != value.MemberEnd() && !it->value.IsNull()) {
        if (!it->value.IsObject()) throw std::invalid_argument("field 'source' must be an object");
        const Value& s = it->value;
        entry.source = LegacySource{string_or_empty(s, "type"),  string_or_empty(s, "owner"),
                                    string_or_empty(s, "repo"),  string_or_empty(s, "tag"),
                                    string_or_empty(s, "asset"), string_or_empty(s, "url")};
    }
    if (auto it = value.FindMember("enabled"); it != value.MemberEnd()) {
        if (!it->value.IsBool()) throw std::invalid_argument("field 'enabled' must be a boolean");
        entry.enabled = it->value.GetBool();
    }
    if (auto it = value.FindMember("config"); it != value.MemberEnd() && !it->value.IsNull()) {
        if (!it->value.IsObject()) throw std::invalid_argument("field 'config' must be an object");
        entry.config_json = to_json_text(it->value);
    }
    entry.original_json = to_json_text(value);
    return entry;
}

LegacyShape detect_shape(const LegacyEntry& entry) {
    if (entry.enabled || entry.config_json) return LegacyShape::v1_1;
    if (entry.dist_name) return LegacyShape::v0_9;
    if (entry.sha256 || entry.source) return LegacyShape::v1_0;
    return LegacyShape::v0_1;
}

LegacyEntry add_checksum_and_source(LegacyEntry entry) {
    if (!entry.sha256) entry.sha256 = "";
    if (!entry.source && !entry.wheel_url.empty()) {
        entry.source = github_source_from_url(entry.wheel_url);
        if (!entry.source) entry.source = LegacySource{"url", "", "", "", "", entry.wheel_url};
    }
    return entry;
}

LegacyEntry add_dist_name(LegacyEntry entry) {
    if (entry.dist_name && !entry.dist_name->empty()) {
        entry.dist_name = normalize_dist_name(*entry.dist_name);
        return entry;
    }
    entry.dist_name.reset();
    if (entry.source && entry.source->type == "github_release" && !entry.source->asset.empty()) {
        entry.dist_name = dist_name_from_wheel(entry.source->asset);
    }
    if (!entry.dist_name && !entry.wheel_url.empty()) {
        entry.dist_name = dist_name_from_wheel(entry.wheel_url);
    }
    return entry;
}

LegacyEntry add_enabled_and_config(LegacyEntry entry) {
    if (!entry.enabled) entry.enabled = true;
    if (!entry.config_json) entry.config_json = "{}";
    return entry;
}

Entry to_registry_entry(const LegacyEntry& legacy) {
    Entry entry;
    entry.component_id = legacy.component_id;
    entry.dist_name = legacy.dist_name.value_or("");
    entry.version = legacy.version;
    entry.sha256 = legacy.sha256.value_or("");
    entry.source_json = legacy.source ? source_to_json(*legacy.source) : "{}";
    entry.enabled = legacy.enabled.value_or(true);
    entry.config_json = legacy.config_json.value_or("{}");
    entry.installed_at = legacy.installed_at;
    entry.kind = EntryKind::python_wheel;
    entry.legacy_json = legacy.original_json;
    return entry;
}

Entry migrate_legacy_entry(LegacyEntry entry) {
    // Each case falls through to the next era's step: an old entry takes every step after it.
    switch (detect_shape(entry)) {
        case LegacyShape::v0_1:
            entry = add_checksum_and_source(std::move(entry));
            [[fallthrough]];
        case LegacyShape::v1_0:
            entry = add_dist_name(std::move(entry));
            [[fallthrough]];
        case LegacyShape::v0_9:
            entry = add_enabled_and_config(std::move(entry));
            [[fallthrough]];
        case LegacyShape::v1_1:
            break;
    }
    // A v1.1 entry may still lack a dist_name the earlier agent never recorded: derive it too.
    if (!entry.dist_name) entry = add_dist_name(std::move(entry));
    return to_registry_entry(entry);
}

LegacyMigration migrate_legacy_registry(const Value& document) {
    LegacyMigration migration;
    for (const auto& member : document.GetObject()) {
        const std::string id(member.name.GetString(), member.name.GetStringLength());
        try {
            migration.registry.put(migrate_legacy_entry(read_legacy_entry(id, member.value)));
        } catch (const std::invalid_argument& e) {
            migration.problems.push_back("legacy registry entry '" + id +
                                         "' left out: " + e.what());
        }
    }
    return migration;
}

}  // namespace lucid::registry
