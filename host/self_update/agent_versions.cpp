#include "self_update/agent_versions.hpp"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <set>

#include "lucid/registry/semver.hpp"

namespace lucid::host::self_update {

namespace {

using Object = rapidjson::Value::ConstObject;

Error invalid(std::string why) { return Error{Errc::invalid, std::move(why)}; }

// Only `allowed` members: a state written by a newer build that means more than this one knows
// is refused rather than half understood.
Status only_members(const Object& object, const std::set<std::string>& allowed,
                    const std::string& where) {
    for (const auto& m : object) {
        const std::string name(m.name.GetString(), m.name.GetStringLength());
        if (allowed.count(name) == 0) return invalid(where + ": unknown member '" + name + "'");
    }
    return done();
}

Expected<std::optional<std::string>> version_at(const Object& object, const char* key,
                                                const std::string& where) {
    const auto it = object.FindMember(key);
    if (it == object.MemberEnd() || it->value.IsNull()) return std::optional<std::string>();
    if (!it->value.IsString()) return invalid(where + "." + key + " must be a string or null");
    std::string text(it->value.GetString(), it->value.GetStringLength());
    if (!registry::Version::parse(text)) {
        return invalid(where + "." + key + " is not a semantic version");
    }
    return std::optional<std::string>(std::move(text));
}

Expected<std::string> string_at(const Object& object, const char* key, const std::string& where) {
    const auto it = object.FindMember(key);
    if (it == object.MemberEnd() || !it->value.IsString()) {
        return invalid(where + "." + key + " must be a string");
    }
    return std::string(it->value.GetString(), it->value.GetStringLength());
}

Expected<int> count_at(const Object& object, const char* key, const std::string& where) {
    const auto it = object.FindMember(key);
    if (it == object.MemberEnd() || !it->value.IsInt() || it->value.GetInt() < 0 ||
        it->value.GetInt() > 1000) {
        return invalid(where + "." + key + " must be an integer 0-1000");
    }
    return it->value.GetInt();
}

Expected<std::optional<PendingVersion>> pending_at(const Object& root) {
    const auto it = root.FindMember("pending");
    if (it == root.MemberEnd() || it->value.IsNull()) return std::optional<PendingVersion>();
    if (!it->value.IsObject()) return invalid("pending must be an object or null");
    const auto o = it->value.GetObject();
    if (Status s = only_members(o, {"version", "attempts", "allowed", "request_id"}, "pending");
        !s) {
        return s.error();
    }
    PendingVersion p;
    auto version = version_at(o, "version", "pending");
    if (!version) return version.error();
    if (!version.value()) return invalid("pending.version must be a string");
    p.version = *version.value();
    auto attempts = count_at(o, "attempts", "pending");
    if (!attempts) return attempts.error();
    auto allowed = count_at(o, "allowed", "pending");
    if (!allowed) return allowed.error();
    auto request_id = string_at(o, "request_id", "pending");
    if (!request_id) return request_id.error();
    p.attempts = attempts.value();
    p.allowed = allowed.value();
    p.request_id = std::move(request_id.value());
    return std::optional<PendingVersion>(std::move(p));
}

Expected<std::optional<LastUpgrade>> last_upgrade_at(const Object& root) {
    const auto it = root.FindMember("last_upgrade");
    if (it == root.MemberEnd() || it->value.IsNull()) return std::optional<LastUpgrade>();
    if (!it->value.IsObject()) return invalid("last_upgrade must be an object or null");
    const auto o = it->value.GetObject();
    const std::string where = "last_upgrade";
    if (Status s = only_members(o, {"version", "outcome", "reason", "ts", "request_id", "reported"},
                                where);
        !s) {
        return s.error();
    }
    LastUpgrade last;
    auto version = version_at(o, "version", where);
    if (!version) return version.error();
    if (!version.value()) return invalid("last_upgrade.version must be a string");
    last.version = *version.value();
    for (auto [key, field] : {std::pair<const char*, std::string*>{"outcome", &last.outcome},
                              {"reason", &last.reason},
                              {"ts", &last.ts},
                              {"request_id", &last.request_id}}) {
        auto value = string_at(o, key, where);
        if (!value) return value.error();
        *field = std::move(value.value());
    }
    if (last.outcome != kCommitted && last.outcome != kRolledBack) {
        return invalid("last_upgrade.outcome must be committed or rolled_back");
    }
    const auto reported = o.FindMember("reported");
    if (reported == o.MemberEnd() || !reported->value.IsBool()) {
        return invalid("last_upgrade.reported must be true or false");
    }
    last.reported = reported->value.GetBool();
    return std::optional<LastUpgrade>(std::move(last));
}

template <typename Writer>
void write_optional(Writer& w, const char* key, const std::optional<std::string>& value) {
    w.Key(key);
    if (value) {
        w.String(value->c_str(), static_cast<rapidjson::SizeType>(value->size()));
    } else {
        w.Null();
    }
}

template <typename Writer>
void write_string(Writer& w, const char* key, const std::string& value) {
    w.Key(key);
    w.String(value.c_str(), static_cast<rapidjson::SizeType>(value.size()));
}

}  // namespace

Expected<AgentVersions> parse_agent_versions(std::string_view json) {
    rapidjson::Document doc;
    doc.Parse(json.data(), json.size());
    if (doc.HasParseError()) {
        return invalid(std::string("invalid JSON: ") +
                       rapidjson::GetParseError_En(doc.GetParseError()) + " at offset " +
                       std::to_string(doc.GetErrorOffset()));
    }
    if (!doc.IsObject()) return invalid("not a JSON object");
    const auto root = static_cast<const rapidjson::Document&>(doc).GetObject();
    if (Status s =
            only_members(root, {"committed", "previous", "pending", "last_upgrade"}, "state");
        !s) {
        return s.error();
    }
    AgentVersions v;
    auto committed = version_at(root, "committed", "state");
    if (!committed) return committed.error();
    auto previous = version_at(root, "previous", "state");
    if (!previous) return previous.error();
    auto pending = pending_at(root);
    if (!pending) return pending.error();
    auto last = last_upgrade_at(root);
    if (!last) return last.error();
    v.committed = std::move(committed.value());
    v.previous = std::move(previous.value());
    v.pending = std::move(pending.value());
    v.last_upgrade = std::move(last.value());
    return v;
}

std::string agent_versions_json(const AgentVersions& v) {
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
    w.StartObject();
    write_optional(w, "committed", v.committed);
    write_optional(w, "previous", v.previous);
    w.Key("pending");
    if (v.pending) {
        w.StartObject();
        write_string(w, "version", v.pending->version);
        w.Key("attempts");
        w.Int(v.pending->attempts);
        w.Key("allowed");
        w.Int(v.pending->allowed);
        write_string(w, "request_id", v.pending->request_id);
        w.EndObject();
    } else {
        w.Null();
    }
    w.Key("last_upgrade");
    if (v.last_upgrade) {
        const auto& l = *v.last_upgrade;
        w.StartObject();
        write_string(w, "version", l.version);
        write_string(w, "outcome", l.outcome);
        write_string(w, "reason", l.reason);
        write_string(w, "ts", l.ts);
        write_string(w, "request_id", l.request_id);
        w.Key("reported");
        w.Bool(l.reported);
        w.EndObject();
    } else {
        w.Null();
    }
    w.EndObject();
    return std::string(buffer.GetString(), buffer.GetSize()) + "\n";
}

}  // namespace lucid::host::self_update
