#include "agent/takeover_detector.hpp"

#include <cstdio>
#include <random>

#include <rapidjson/document.h>

#include "lucid/registry/echoed_value.hpp"
#include "lucid/registry/registry_json.hpp"

namespace lucid::host::agent {
namespace {

std::string string_field(const rapidjson::Document& doc, const char* key) {
    auto it = doc.FindMember(key);
    if (it == doc.MemberEnd() || !it->value.IsString()) return "";
    // Another process wrote it: quoted back cut, like every value a client chooses.
    return registry::echoed_value(
        std::string_view(it->value.GetString(), it->value.GetStringLength()));
}

}  // namespace

std::string new_instance_id() {
    std::random_device device;
    const unsigned long long value = (static_cast<unsigned long long>(device()) << 32) ^
                                     static_cast<unsigned long long>(device());
    char id[17];
    std::snprintf(id, sizeof id, "%016llx", value);
    return id;
}

TakeoverDetector::TakeoverDetector(std::string own_instance) : own_(std::move(own_instance)) {}

std::optional<std::string> TakeoverDetector::observe(std::string_view payload) {
    // Anyone allowed to publish on our status topic reaches this parser: nesting deep enough
    // to overflow the stack is ignored like any other malformed status.
    if (registry::json_too_deep(payload)) return std::nullopt;
    rapidjson::Document doc;
    doc.Parse(payload.data(), payload.size());
    if (doc.HasParseError() || !doc.IsObject() || string_field(doc, "state") != "online") {
        return std::nullopt;
    }
    const std::string instance = string_field(doc, "instance");
    if (instance == own_) {
        seen_own_ = true;
        return std::nullopt;
    }
    // Before our own status came back, a foreign one may be the retained status of an earlier
    // run of this agent that died without its Will (a power cut): not evidence of anybody.
    if (!seen_own_ || conflict_) return std::nullopt;
    std::string seen = "another agent with this agent_id is online: instance " +
                       (instance.empty() ? std::string("unknown") : instance);
    const std::string version = string_field(doc, "version");
    if (!version.empty()) seen += ", version " + version;
    const std::string since = string_field(doc, "connected_since");
    if (!since.empty()) seen += ", connected since " + since;
    conflict_ = seen;
    return conflict_;
}

}  // namespace lucid::host::agent
