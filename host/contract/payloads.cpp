#include "contract/payloads.hpp"

#include "contract/utf8.hpp"
#include "lucid/registry/registry_json.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace lucid::host::contract {
namespace {

using rapidjson::Document;
using rapidjson::Value;

Value str_value(std::string_view s, Document::AllocatorType& a) {
    return Value(s.data(), static_cast<rapidjson::SizeType>(s.size()), a);
}

// Every payload starts as {"schema":..., "ts":...}.
Document envelope(Clock::time_point now) {
    Document doc(rapidjson::kObjectType);
    auto& a = doc.GetAllocator();
    doc.AddMember("schema", str_value(kSchema, a), a);
    doc.AddMember("ts", str_value(utc_timestamp(now), a), a);
    return doc;
}

void add(Document& doc, std::string_view key, Value value) {
    auto& a = doc.GetAllocator();
    doc.AddMember(str_value(key, a), value, a);
}

void add_string(Document& doc, std::string_view key, std::string_view value) {
    add(doc, key, str_value(value, doc.GetAllocator()));
}

// Registry entries keep `source`/`config` as serialized JSON; an unreadable one becomes null
// rather than breaking the whole snapshot.
Value parsed_or_null(const std::string& json, Document::AllocatorType& a) {
    Document parsed;
    if (json.empty() || parsed.Parse(json.c_str(), json.size()).HasParseError()) return Value();
    return Value(parsed, a);
}

// Uptime rounded to milliseconds keeps payloads short and stable.
Value seconds_value(double seconds) {
    return Value(static_cast<double>(static_cast<std::int64_t>(seconds * 1000.0)) / 1000.0);
}

}  // namespace

std::string to_json(const rapidjson::Value& value) {
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
    value.Accept(writer);
    const std::string_view text(buffer.GetString(), buffer.GetSize());
    // The writer copies string bytes as they are: a value cut inside a character or a plugin's
    // non-UTF-8 error text would make the payload invalid JSON. Outside strings the writer
    // emits only ASCII, so the repair never touches the JSON structure.
    if (!is_valid_utf8(text)) return to_valid_utf8(text);
    return std::string(text);
}

std::string status_payload(const StatusInfo& info, Clock::time_point now) {
    Document doc = envelope(now);
    auto& a = doc.GetAllocator();
    add_string(doc, "state", info.online ? "online" : "offline");
    add_string(doc, "agent_id", info.agent_id);
    add_string(doc, "version", info.version);
    add(doc, "session", Value(static_cast<std::uint64_t>(info.session)));
    add(doc, "connected_since",
        info.connected_since ? str_value(utc_timestamp(*info.connected_since), a) : Value());
    add(doc, "uptime_s", seconds_value(info.uptime_s));
    add_string(doc, "instance", info.instance);
    add(doc, "conflict", info.conflict ? str_value(*info.conflict, a) : Value());
    add(doc, "labels", labels_to_json(info.labels, a));
    Value last;
    if (const auto& u = info.last_upgrade) {
        last.SetObject();
        last.AddMember("version", str_value(u->version, a), a);
        last.AddMember("outcome", str_value(u->outcome, a), a);
        last.AddMember("reason", u->reason.empty() ? Value() : str_value(u->reason, a), a);
        last.AddMember("ts", str_value(u->ts, a), a);
    }
    add(doc, "last_upgrade", std::move(last));
    return to_json(doc);
}

std::string will_payload(std::string_view agent_id, std::string_view version, std::uint64_t session,
                         std::string_view instance, Clock::time_point now) {
    Document doc = envelope(now);
    add_string(doc, "state", "offline");
    add_string(doc, "agent_id", agent_id);
    add_string(doc, "version", version);
    add(doc, "session", Value(static_cast<std::uint64_t>(session)));
    add_string(doc, "instance", instance);
    return to_json(doc);
}

std::string metadata_payload(const MetadataInfo& info, Clock::time_point now) {
    Document doc = envelope(now);
    add_string(doc, "agent_id", info.agent_id);
    add_string(doc, "version", info.version);
    add_string(doc, "platform", info.platform);
    add_string(doc, "arch", info.arch);
    add_string(doc, "hostname", info.hostname);
    add_string(doc, "plugin_abi", info.plugin_abi);
    add(doc, "labels", labels_to_json(info.labels, doc.GetAllocator()));
    add_string(doc, "build_platform", info.build_platform);
    return to_json(doc);
}

std::string core_state_payload(const CoreStateInfo& info, Clock::time_point now) {
    Document doc = envelope(now);
    add_string(doc, "agent_id", info.agent_id);
    const bool degraded = info.components_failed > 0 || !info.degraded_reasons.empty();
    add_string(doc, "state", degraded ? "degraded" : "running");
    add(doc, "uptime_s", seconds_value(info.uptime_s));
    add(doc, "components_running", Value(static_cast<std::uint64_t>(info.components_running)));
    add(doc, "components_failed", Value(static_cast<std::uint64_t>(info.components_failed)));
    Value reasons(rapidjson::kArrayType);
    for (const auto& reason : info.degraded_reasons) {
        reasons.PushBack(str_value(reason, doc.GetAllocator()), doc.GetAllocator());
    }
    add(doc, "degraded_reasons", std::move(reasons));
    return to_json(doc);
}

namespace {

// One component's member of core/components: the registry's own encoding of the entry (§6) plus
// its live state.
std::string component_member(const ComponentSnapshot& c) {
    Document doc(rapidjson::kObjectType);
    auto& a = doc.GetAllocator();
    Value item;
    registry::write_entry(c.entry, item, a);
    item.AddMember("state", str_value(wire_state(c.state), a), a);
    item.AddMember("error", c.error.empty() ? Value() : str_value(c.error, a), a);
    // Where it runs: the entry's choice, else the agent's default.
    if (auto it = item.FindMember("isolation"); it != item.MemberEnd()) item.RemoveMember(it);
    item.AddMember("isolation", str_value(c.isolation.empty() ? "in_process" : c.isolation, a), a);
    item.AddMember("restarts", Value(c.restarts), a);
    item.AddMember("floor", c.floor.empty() ? Value() : str_value(c.floor, a), a);
    if (!c.warning.empty()) item.AddMember("warning", str_value(c.warning, a), a);
    return to_json(item);
}

}  // namespace

std::string ComponentsPayloadCache::payload(const std::vector<ComponentSnapshot>& components,
                                            Clock::time_point now) {
    std::map<std::string, Member> kept;
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
    w.StartObject();
    w.Key("schema");
    w.String(kSchema.data(), static_cast<rapidjson::SizeType>(kSchema.size()));
    const std::string ts = utc_timestamp(now);
    w.Key("ts");
    w.String(ts.c_str(), static_cast<rapidjson::SizeType>(ts.size()));
    w.Key("count");
    w.Uint64(components.size());
    w.Key("components");
    w.StartObject();
    for (const auto& c : components) {
        auto it = members_.find(c.entry.component_id);
        Member member = it != members_.end() && it->second.snapshot == c
                            ? std::move(it->second)
                            : Member{c, component_member(c)};
        const std::string& id = c.entry.component_id;
        w.Key(id.c_str(), static_cast<rapidjson::SizeType>(id.size()));
        w.RawValue(member.json.c_str(), member.json.size(), rapidjson::kObjectType);
        kept.insert_or_assign(id, std::move(member));
    }
    w.EndObject();
    w.EndObject();
    members_ = std::move(kept);  // removed components are forgotten
    const std::string_view text(buffer.GetString(), buffer.GetSize());
    if (!is_valid_utf8(text)) return to_valid_utf8(text);
    return std::string(text);
}

std::string components_payload(const std::vector<ComponentSnapshot>& components,
                               Clock::time_point now) {
    return ComponentsPayloadCache().payload(components, now);
}

std::string component_status_payload(ComponentState state, std::string_view version,
                                     std::string_view error, std::uint64_t dropped_messages,
                                     Clock::time_point now, const StatusExtras& extras) {
    Document doc = envelope(now);
    auto& a = doc.GetAllocator();
    add_string(doc, "state", wire_state(state));
    add_string(doc, "version", version);
    add(doc, "error", error.empty() ? Value() : str_value(error, a));
    add(doc, "dropped_messages", Value(dropped_messages));
    add(doc, "duplicates_dropped", Value(extras.duplicates_dropped));
    add_string(doc, "isolation", extras.isolation.empty() ? "in_process" : extras.isolation);
    add(doc, "restarts", Value(extras.restarts));
    if (!extras.demoted.empty()) {
        add(doc, "demoted", Value(true));
        add_string(doc, "demoted_because", extras.demoted);
    }
    if (!extras.warning.empty()) add_string(doc, "warning", extras.warning);
    if (!extras.log_level.empty()) add_string(doc, "log_level", extras.log_level);
    if (extras.containment && !extras.containment->empty()) {
        Value measures(rapidjson::kObjectType);
        for (const auto& [name, result] : *extras.containment) {
            measures.AddMember(str_value(name, a), str_value(result, a), a);
        }
        add(doc, "containment", std::move(measures));
    }
    if (extras.run_as && !extras.run_as->empty()) {
        Value run_as;
        registry::write_run_as(*extras.run_as, run_as, a);
        add(doc, "run_as", std::move(run_as));
    }
    return to_json(doc);
}

std::string component_cfg_state_payload(const std::string& config_json, Clock::time_point now) {
    Document doc = envelope(now);
    Value config = parsed_or_null(config_json, doc.GetAllocator());
    if (!config.IsObject()) config.SetObject();
    add(doc, "cfg", std::move(config));
    return to_json(doc);
}

std::string install_progress_payload(std::string_view request_id, std::string_view phase,
                                     std::uint64_t bytes, std::uint64_t total,
                                     Clock::time_point now) {
    Document doc = envelope(now);
    add_string(doc, "request_id", request_id);
    add_string(doc, "phase", phase);
    add(doc, "bytes", Value(bytes));
    add(doc, "total", Value(total));
    return to_json(doc);
}

std::string cfg_state_payload(const rapidjson::Value& cfg, Clock::time_point now) {
    Document doc = envelope(now);
    add(doc, "cfg", Value(cfg, doc.GetAllocator()));
    add(doc, "telemetry_supported", Value(kTelemetrySupported));
    return to_json(doc);
}

Result::Result(std::string_view request_id, Clock::time_point now) : doc_(envelope(now)) {
    add_string(doc_, "request_id", request_id);
    add(doc_, "ok", Value(true));
    add(doc_, "error", Value());
}

rapidjson::Value& Result::field(std::string_view key) {
    auto it = doc_.FindMember(Value(rapidjson::StringRef(key.data(), key.size())));
    if (it == doc_.MemberEnd()) {
        add(doc_, key, Value());
        it = doc_.MemberEnd() - 1;
    }
    return it->value;
}

Result& Result::succeed() {
    field("ok").SetBool(true);
    field("error").SetNull();
    return *this;
}

Result& Result::fail(std::string_view error) {
    field("ok").SetBool(false);
    field("error") = str_value(error, doc_.GetAllocator());
    return *this;
}

Result& Result::set(std::string_view key, std::string_view value) {
    field(key) = str_value(value, doc_.GetAllocator());
    return *this;
}

Result& Result::set(std::string_view key, bool value) {
    field(key).SetBool(value);
    return *this;
}

Result& Result::set(std::string_view key, std::int64_t value) {
    field(key).SetInt64(value);
    return *this;
}

Result& Result::set(std::string_view key, const rapidjson::Value& value) {
    field(key).CopyFrom(value, doc_.GetAllocator());
    return *this;
}

bool Result::ok() const { return doc_["ok"].GetBool(); }

const rapidjson::Value* Result::find(std::string_view key) const {
    auto it = doc_.FindMember(Value(rapidjson::StringRef(key.data(), key.size())));
    return it == doc_.MemberEnd() ? nullptr : &it->value;
}

std::string Result::str() const { return to_json(doc_); }

}  // namespace lucid::host::contract
