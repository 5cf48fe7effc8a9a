#include "lucid/registry/registry_json.hpp"

#include <rapidjson/error/en.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "json_text.hpp"
#include "lucid/registry/echoed_value.hpp"
#include "lucid/registry/identifiers.hpp"
#include "lucid/registry/run_as_allowed.hpp"

namespace lucid::registry {
namespace {

using rapidjson::Value;

std::string string_field(const Value& object, const char* name, bool required) {
    auto it = object.FindMember(name);
    if (it == object.MemberEnd() || it->value.IsNull()) {
        if (required) throw std::invalid_argument(std::string("missing field '") + name + "'");
        return {};
    }
    if (!it->value.IsString()) {
        throw std::invalid_argument(std::string("field '") + name + "' must be a string");
    }
    return {it->value.GetString(), it->value.GetStringLength()};
}

std::string object_field_as_json(const Value& object, const char* name) {
    auto it = object.FindMember(name);
    if (it == object.MemberEnd() || it->value.IsNull()) return "{}";
    if (!it->value.IsObject()) {
        throw std::invalid_argument(std::string("field '") + name + "' must be an object");
    }
    return to_json_text(it->value);
}

void add_raw_json(Value& out, const char* name, const std::string& text,
                  rapidjson::Document::AllocatorType& allocator) {
    rapidjson::Document parsed(&allocator);
    parsed.Parse(text.c_str(), text.size());
    Value value;
    if (parsed.HasParseError()) {
        value.SetObject();  // unreachable for text we produced ourselves; keep the file valid
    } else {
        value.CopyFrom(parsed, allocator);
    }
    out.AddMember(Value(name, allocator), value, allocator);
}

}  // namespace

bool json_too_deep(std::string_view text, std::size_t max_depth) {
    std::size_t depth = 0;
    bool in_string = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (in_string) {
            if (c == '\\') {
                ++i;  // the escaped character cannot end the string
            } else if (c == '"') {
                in_string = false;
            }
        } else if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            if (++depth > max_depth) return true;
        } else if ((c == ']' || c == '}') && depth > 0) {
            --depth;
        }
    }
    return false;
}

rapidjson::Document parse_json_object(std::string_view text, std::string_view what) {
    if (json_too_deep(text)) {
        throw CorruptRegistry(std::string(what) + " nests JSON deeper than " +
                              std::to_string(kMaxJsonDepth) + " levels");
    }
    rapidjson::Document doc;
    doc.Parse(text.data(), text.size());
    if (doc.HasParseError()) {
        throw CorruptRegistry(std::string(what) + " is not valid JSON: " +
                              rapidjson::GetParseError_En(doc.GetParseError()) + " at offset " +
                              std::to_string(doc.GetErrorOffset()));
    }
    if (!doc.IsObject()) throw CorruptRegistry(std::string(what) + " is not a JSON object");
    return doc;
}

Entry read_entry(std::string_view component_id, const Value& value) {
    if (!value.IsObject()) throw std::invalid_argument("entry is not an object");
    if (auto error = identifier_error("component_id", component_id)) {
        throw std::invalid_argument(*error);
    }
    Entry entry;
    entry.component_id = std::string(component_id);
    entry.dist_name = string_field(value, "dist_name", false);
    entry.version = string_field(value, "version", true);
    entry.sha256 = string_field(value, "sha256", false);
    entry.path = string_field(value, "path", false);
    entry.source_json = object_field_as_json(value, "source");
    entry.config_json = object_field_as_json(value, "config");
    entry.installed_at = string_field(value, "installed_at", false);
    if (auto it = value.FindMember("enabled"); it != value.MemberEnd()) {
        if (!it->value.IsBool()) throw std::invalid_argument("field 'enabled' must be a boolean");
        entry.enabled = it->value.GetBool();
    }
    const std::string kind = string_field(value, "kind", false);
    if (kind == "python_wheel") {
        entry.kind = EntryKind::python_wheel;
    } else if (!kind.empty() && kind != "native") {
        throw std::invalid_argument("field 'kind' must be native or python_wheel");
    }
    if (auto it = value.FindMember("previous"); it != value.MemberEnd() && !it->value.IsNull()) {
        if (!it->value.IsObject())
            throw std::invalid_argument("field 'previous' must be an object");
        entry.previous = PreviousVersion{string_field(it->value, "version", true),
                                         string_field(it->value, "sha256", false),
                                         string_field(it->value, "path", false)};
    }
    if (auto it = value.FindMember("legacy"); it != value.MemberEnd() && !it->value.IsNull()) {
        entry.legacy_json = to_json_text(it->value);
    }
    entry.isolation = string_field(value, "isolation", false);
    if (!entry.isolation.empty() && entry.isolation != "in_process" &&
        entry.isolation != "process") {
        throw std::invalid_argument("field 'isolation' must be in_process or process");
    }
    if (auto it = value.FindMember("limits"); it != value.MemberEnd() && !it->value.IsNull()) {
        entry.limits = read_limits(it->value, false);  // a newer agent's limits: ignored
    }
    if (auto it = value.FindMember("run_as"); it != value.MemberEnd() && !it->value.IsNull()) {
        entry.run_as = read_run_as(it->value, false);  // none (an older file): the agent's user
    }
    entry.demoted = string_field(value, "demoted", false);
    entry.signed_by = string_field(value, "signed_by", false);
    return entry;
}

Limits read_limits(const Value& value, bool strict) {
    if (!value.IsObject()) throw std::invalid_argument("'limits' must be an object");
    if (strict) {
        for (const auto& m : value.GetObject()) {
            const std::string name(m.name.GetString(), m.name.GetStringLength());
            if (name != "memory_mb" && name != "open_files" && name != "cpu_seconds") {
                throw std::invalid_argument(
                    "'limits." + echoed_value(name) +
                    "' is not a limit (memory_mb, open_files, cpu_seconds)");
            }
        }
    }
    Limits limits;
    // Bounds a command must keep (a registry written before them is read as it is): what the
    // kernel can enforce, so that a limit is refused here rather than by the child it would be
    // restarted into.
    auto field = [&](const char* name, std::optional<std::uint64_t>& into, std::uint64_t most) {
        auto it = value.FindMember(name);
        if (it == value.MemberEnd() || it->value.IsNull()) return;
        if (!it->value.IsUint64() || it->value.GetUint64() == 0) {
            throw std::invalid_argument(std::string("'limits.") + name +
                                        "' must be a positive integer");
        }
        if (strict && it->value.GetUint64() > most) {
            throw std::invalid_argument(std::string("'limits.") + name + "' must be at most " +
                                        std::to_string(most));
        }
        into = it->value.GetUint64();
    };
    field("memory_mb", limits.memory_mb, kMaxMemoryMb);
    field("open_files", limits.open_files, kMaxOpenFiles);
    field("cpu_seconds", limits.cpu_seconds, kMaxCpuSeconds);
    return limits;
}

void write_limits(const Limits& limits, Value& out, rapidjson::Document::AllocatorType& allocator) {
    out.SetObject();
    if (limits.memory_mb) out.AddMember("memory_mb", Value(*limits.memory_mb), allocator);
    if (limits.open_files) out.AddMember("open_files", Value(*limits.open_files), allocator);
    if (limits.cpu_seconds) out.AddMember("cpu_seconds", Value(*limits.cpu_seconds), allocator);
}

RunAs read_run_as(const Value& value, bool strict) {
    if (!value.IsObject()) throw std::invalid_argument("'run_as' must be an object");
    if (strict) {
        for (const auto& m : value.GetObject()) {
            const std::string name(m.name.GetString(), m.name.GetStringLength());
            if (name != "user" && name != "groups") {
                throw std::invalid_argument("'run_as." + echoed_value(name) +
                                            "' is not a run_as field (user, groups)");
            }
        }
    }
    RunAs run_as;
    auto name_of = [](const Value& v, const std::string& field) {
        if (!v.IsString()) throw std::invalid_argument("'" + field + "' must be a string");
        std::string name(v.GetString(), v.GetStringLength());
        if (auto error = account_name_error(field, name)) throw std::invalid_argument(*error);
        return name;
    };
    if (auto it = value.FindMember("user"); it != value.MemberEnd() && !it->value.IsNull()) {
        run_as.user = name_of(it->value, "run_as.user");
    }
    if (auto it = value.FindMember("groups"); it != value.MemberEnd() && !it->value.IsNull()) {
        if (!it->value.IsArray()) throw std::invalid_argument("'run_as.groups' must be an array");
        for (const auto& g : it->value.GetArray()) {
            run_as.groups.push_back(name_of(g, "run_as.groups[]"));
        }
    }
    // Groups without a user would be given to the agent's own user: never asked for that way.
    if (run_as.user.empty() && !run_as.groups.empty()) {
        throw std::invalid_argument("'run_as.groups' needs 'run_as.user'");
    }
    return run_as;
}

void write_run_as(const RunAs& run_as, Value& out, rapidjson::Document::AllocatorType& allocator) {
    out.SetObject();
    if (run_as.empty()) return;
    out.AddMember("user", Value(run_as.user, allocator), allocator);
    if (run_as.groups.empty()) return;
    Value groups(rapidjson::kArrayType);
    for (const auto& g : run_as.groups) groups.PushBack(Value(g, allocator), allocator);
    out.AddMember("groups", groups, allocator);
}

void write_entry(const Entry& entry, Value& out, rapidjson::Document::AllocatorType& allocator) {
    out.SetObject();
    auto add_string = [&](const char* name, const std::string& value) {
        out.AddMember(Value(name, allocator), Value(value, allocator), allocator);
    };
    add_string("component_id", entry.component_id);
    if (entry.dist_name.empty()) {
        out.AddMember("dist_name", Value(), allocator);
    } else {
        add_string("dist_name", entry.dist_name);
    }
    add_string("version", entry.version);
    // Unknown (a legacy entry that never recorded them) is null, not "".
    auto add_optional = [&](const char* name, const std::string& value) {
        out.AddMember(Value(name, allocator), value.empty() ? Value() : Value(value, allocator),
                      allocator);
    };
    add_optional("sha256", entry.sha256);
    add_optional("path", entry.path);
    add_raw_json(out, "source", entry.source_json, allocator);
    out.AddMember("enabled", entry.enabled, allocator);
    add_raw_json(out, "config", entry.config_json, allocator);
    add_string("installed_at", entry.installed_at);
    if (entry.previous) {
        Value previous(rapidjson::kObjectType);
        previous.AddMember("version", Value(entry.previous->version, allocator), allocator);
        previous.AddMember("sha256", Value(entry.previous->sha256, allocator), allocator);
        previous.AddMember("path", Value(entry.previous->path, allocator), allocator);
        out.AddMember("previous", previous, allocator);
    } else {
        out.AddMember("previous", Value(), allocator);
    }
    add_string("kind", to_string(entry.kind));
    if (!entry.legacy_json.empty()) add_raw_json(out, "legacy", entry.legacy_json, allocator);
    if (!entry.isolation.empty()) add_string("isolation", entry.isolation);
    if (!entry.limits.empty()) {
        Value limits;
        write_limits(entry.limits, limits, allocator);
        out.AddMember("limits", limits, allocator);
    }
    if (!entry.run_as.empty()) {
        Value run_as;
        write_run_as(entry.run_as, run_as, allocator);
        out.AddMember("run_as", run_as, allocator);
    }
    if (!entry.demoted.empty()) add_string("demoted", entry.demoted);
    if (!entry.signed_by.empty()) add_string("signed_by", entry.signed_by);
}

ParsedRegistry parse_registry(const Value& document) {
    ParsedRegistry parsed;
    auto components = document.FindMember("components");
    if (components == document.MemberEnd()) return parsed;
    if (!components->value.IsObject()) {
        throw CorruptRegistry("registry field 'components' is not an object");
    }
    for (const auto& member : components->value.GetObject()) {
        const std::string id(member.name.GetString(), member.name.GetStringLength());
        try {
            parsed.registry.put(read_entry(id, member.value));
        } catch (const std::invalid_argument& e) {
            parsed.problems.push_back("registry entry '" + id + "' left out: " + e.what());
        }
    }
    return parsed;
}

std::string entry_to_json(const Entry& entry) {
    rapidjson::Document doc;
    write_entry(entry, doc, doc.GetAllocator());
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
    doc.Accept(writer);
    return std::string(buffer.GetString(), buffer.GetSize());
}

Entry entry_from_json(std::string_view component_id, std::string_view text) {
    rapidjson::Document doc;
    doc.Parse(text.data(), text.size());
    if (doc.HasParseError()) throw std::invalid_argument("entry is not JSON");
    return read_entry(component_id, doc);
}

std::string serialize_registry(const Registry& registry) {
    rapidjson::Document doc(rapidjson::kObjectType);
    auto& allocator = doc.GetAllocator();
    doc.AddMember("format", kRegistryFormat, allocator);
    Value components(rapidjson::kObjectType);
    for (const auto& [id, entry] : registry.entries()) {
        Value value;
        write_entry(entry, value, allocator);
        components.AddMember(Value(id, allocator), value, allocator);
    }
    doc.AddMember("components", components, allocator);
    rapidjson::StringBuffer buffer;
    rapidjson::PrettyWriter<rapidjson::StringBuffer> writer(buffer);
    writer.SetIndent(' ', 2);
    doc.Accept(writer);
    return std::string(buffer.GetString(), buffer.GetSize()) + "\n";
}

}  // namespace lucid::registry
