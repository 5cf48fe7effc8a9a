#include "components/crash_records.hpp"

#include <rapidjson/document.h>

#include "contract/payloads.hpp"
#include "lucid/registry/registry_json.hpp"

namespace lucid::host::components {
namespace fs = std::filesystem;

namespace {

using Doc = rapidjson::Document;

std::string text_of(const rapidjson::Value& object, const char* key) {
    auto it = object.FindMember(key);
    if (it == object.MemberEnd() || !it->value.IsString()) return "";
    return {it->value.GetString(), it->value.GetStringLength()};
}

std::int64_t number_of(const rapidjson::Value& object, const char* key) {
    auto it = object.FindMember(key);
    return it != object.MemberEnd() && it->value.IsInt64() ? it->value.GetInt64() : 0;
}

void put(Doc& doc, const char* key, const std::string& value) {
    doc.AddMember(rapidjson::StringRef(key), rapidjson::Value(value, doc.GetAllocator()),
                  doc.GetAllocator());
}

void put(Doc& doc, const char* key, std::int64_t value) {
    doc.AddMember(rapidjson::StringRef(key), rapidjson::Value(value), doc.GetAllocator());
}

std::optional<Doc> object_of(const std::string& text) {
    if (registry::json_too_deep(text)) return std::nullopt;  // a stack overflow at every start
    Doc doc;
    doc.Parse(text.c_str(), text.size());
    if (doc.HasParseError() || !doc.IsObject()) return std::nullopt;
    return doc;
}

}  // namespace

std::string to_json(const StartMarker& marker) {
    Doc doc(rapidjson::kObjectType);
    put(doc, "path", marker.path);
    put(doc, "version", marker.version);
    put(doc, "deaths", static_cast<std::int64_t>(marker.deaths));
    return contract::to_json(doc);
}

std::optional<StartMarker> parse_start_marker(const std::string& text) {
    if (text.empty()) return std::nullopt;
    if (auto doc = object_of(text)) {
        StartMarker marker{text_of(*doc, "path"), text_of(*doc, "version"),
                           static_cast<int>(number_of(*doc, "deaths"))};
        if (marker.path.empty()) return std::nullopt;
        return marker;
    }
    // An older agent wrote the path alone: components/{dist}/{version}/{file}.
    const fs::path path(text);
    return StartMarker{text, path.parent_path().filename().string(), 0};
}

std::string to_json(const PendingInstall& pending) {
    Doc doc(rapidjson::kObjectType);
    put(doc, "request_id", pending.request_id);
    put(doc, "dist_name", pending.dist_name);
    put(doc, "version", pending.version);
    put(doc, "sha256", pending.sha256);
    put(doc, "source", pending.source_json);
    put(doc, "entry", pending.entry_json);
    return contract::to_json(doc);
}

std::optional<PendingInstall> parse_pending_install(const std::string& text) {
    auto doc = object_of(text);
    if (!doc) return std::nullopt;
    PendingInstall pending{text_of(*doc, "request_id"), text_of(*doc, "dist_name"),
                           text_of(*doc, "version"),    text_of(*doc, "sha256"),
                           text_of(*doc, "source"),     text_of(*doc, "entry")};
    if (pending.version.empty()) return std::nullopt;
    return pending;
}

std::string to_json(const Quarantine& q) {
    Doc doc(rapidjson::kObjectType);
    put(doc, "error", q.error);
    put(doc, "version", q.version);
    put(doc, "sha256", q.sha256);
    put(doc, "dropin_path", q.dropin_path);
    put(doc, "dropin_size", static_cast<std::int64_t>(q.dropin.size));
    put(doc, "dropin_mtime_s", q.dropin.mtime_s);
    put(doc, "dropin_mtime_ns", q.dropin.mtime_ns);
    return contract::to_json(doc);
}

std::optional<Quarantine> parse_quarantine(const std::string& text,
                                           const std::string& legacy_error) {
    auto doc = object_of(text);
    if (!doc) return Quarantine{legacy_error, "", "", "", {}};
    Quarantine q;
    q.error = text_of(*doc, "error");
    q.version = text_of(*doc, "version");
    q.sha256 = text_of(*doc, "sha256");
    q.dropin_path = text_of(*doc, "dropin_path");
    q.dropin.exists = !q.dropin_path.empty();
    q.dropin.size = static_cast<std::uint64_t>(number_of(*doc, "dropin_size"));
    q.dropin.mtime_s = number_of(*doc, "dropin_mtime_s");
    q.dropin.mtime_ns = number_of(*doc, "dropin_mtime_ns");
    if (q.error.empty()) q.error = legacy_error;
    return q;
}

}  // namespace lucid::host::components
