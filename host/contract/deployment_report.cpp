#include "contract/deployment_report.hpp"

#include <rapidjson/document.h>

#include "contract/json_fields.hpp"
#include "contract/json_text.hpp"
#include "contract/payloads.hpp"

namespace lucid::host::contract {
namespace {

using rapidjson::Document;
using rapidjson::Value;

Value text(std::string_view s, Document::AllocatorType& a) {
    return Value(s.data(), static_cast<rapidjson::SizeType>(s.size()), a);
}

Value text_or_null(std::string_view s, Document::AllocatorType& a) {
    return s.empty() ? Value() : text(s, a);
}

Value revision_value(const std::optional<std::uint64_t>& revision) {
    return revision ? Value(*revision) : Value();
}

// One step's report: a component's, or the agent's own.
Value deployment_step_json(const DeploymentComponent& c, Document::AllocatorType& a) {
    Value item(rapidjson::kObjectType);
    item.AddMember("action", text(c.action, a), a);
    item.AddMember("version", text_or_null(c.version, a), a);
    item.AddMember("outcome", text(c.outcome, a), a);
    item.AddMember("error", text_or_null(c.error, a), a);
    return item;
}

DeploymentComponent read_deployment_step(const Value& object) {
    DeploymentComponent c;
    c.action = string_at(object, "action");
    c.version = string_at(object, "version");
    c.outcome = string_at(object, "outcome");
    c.error = string_at(object, "error");
    return c;
}

}  // namespace

std::string deployment_payload(const Deployment& d, Clock::time_point now) {
    Document doc(rapidjson::kObjectType);
    auto& a = doc.GetAllocator();
    doc.AddMember("schema", text(kSchema, a), a);
    doc.AddMember("ts", text(utc_timestamp(now), a), a);
    doc.AddMember("revision", revision_value(d.revision), a);
    doc.AddMember("state", text(d.state, a), a);
    doc.AddMember("platform", text(d.platform, a), a);
    doc.AddMember("digest", text_or_null(d.digest, a), a);
    doc.AddMember("updated_at", d.updated_at ? text(utc_timestamp(*d.updated_at), a) : Value(), a);
    Value components(rapidjson::kObjectType);
    for (const auto& [id, c] : d.components)
        components.AddMember(text(id, a), deployment_step_json(c, a), a);
    doc.AddMember("components", components, a);
    doc.AddMember("agent", d.agent ? deployment_step_json(*d.agent, a) : Value(), a);
    Value rejected;
    if (d.rejected) {
        rejected.SetObject();
        rejected.AddMember("revision", revision_value(d.rejected->revision), a);
        rejected.AddMember("error", text(d.rejected->error, a), a);
    }
    doc.AddMember("rejected", rejected, a);
    return to_json(doc);
}

Expected<Deployment> parse_deployment(std::string_view payload) {
    Document doc;
    if (Status parsed = parse_json_text(payload, doc); !parsed) return parsed.error();
    if (!doc.IsObject()) return Error{Errc::invalid, "not a JSON object"};
    Deployment d;
    d.revision = uint_at(doc, "revision");
    d.state = string_at(doc, "state");
    if (d.state.empty()) return Error{Errc::invalid, "no 'state'"};
    d.platform = string_at(doc, "platform");
    d.digest = string_at(doc, "digest");
    d.updated_at = parse_utc_timestamp(string_at(doc, "updated_at"));
    if (const auto it = doc.FindMember("components");
        it != doc.MemberEnd() && it->value.IsObject()) {
        for (const auto& member : it->value.GetObject()) {
            if (!member.value.IsObject()) continue;
            d.components[{member.name.GetString(), member.name.GetStringLength()}] =
                read_deployment_step(member.value);
        }
    }
    if (const auto it = doc.FindMember("agent"); it != doc.MemberEnd() && it->value.IsObject()) {
        d.agent = read_deployment_step(it->value);
    }
    if (const auto it = doc.FindMember("rejected"); it != doc.MemberEnd() && it->value.IsObject()) {
        d.rejected =
            Deployment::Rejected{uint_at(it->value, "revision"), string_at(it->value, "error")};
    }
    return d;
}

}  // namespace lucid::host::contract
