// plugin call ID ACTION [JSON]: a command the plugin defines (contract §4.6), sent on
// components/{cid}/cmd/{action} with the JSON object as its payload, answered on
// components/{cid}/evt/{action}_result.
#include <ostream>

#include <rapidjson/error/en.h>

#include "contract/topics.hpp"
#include "lucid/registry/registry_json.hpp"
#include "lucidctl/text_table.hpp"
#include "lucidctl/verbs.hpp"

namespace lucid::host::ctl {
namespace {

using rapidjson::Document;

const char* type_name(const rapidjson::Value& v) {
    if (v.IsArray()) return "an array";
    if (v.IsString()) return "a string";
    if (v.IsNumber()) return "a number";
    if (v.IsBool()) return "a boolean";
    return "null";
}

// The command's payload from the command line: {} without one.
Document call_payload(const CtlOptions& o) {
    Document payload(rapidjson::kObjectType);
    if (o.words.size() < 5) return payload;
    const std::string& text = o.words[4];
    if (registry::json_too_deep(text)) throw UsageError("JSON nested deeper than 64 levels");
    payload.Parse(text.c_str(), text.size());
    if (payload.HasParseError()) {
        throw UsageError("'" + text +
                         "' is not JSON: " + rapidjson::GetParseError_En(payload.GetParseError()) +
                         " at offset " + std::to_string(payload.GetErrorOffset()));
    }
    if (!payload.IsObject()) {
        throw UsageError(std::string("JSON must be an object, e.g. '{\"message\":\"hi\"}', not ") +
                         type_name(payload));
    }
    // lucidctl gives both (Session::request); a second one would be a duplicate key, which the
    // agent refuses.
    if (payload.HasMember("request_id")) {
        throw UsageError("JSON must not hold request_id: lucidctl gives every command its own");
    }
    if (payload.HasMember("expires_at")) {
        throw UsageError("JSON must not hold expires_at: give --expires-in instead");
    }
    return payload;
}

// Members of a result that every result has; the rest is what the plugin answered.
bool common_member(const std::string& name) {
    for (const char* common : {"schema", "ts", "request_id", "ok", "error", "component_id"}) {
        if (name == common) return true;
    }
    return false;
}

}  // namespace

int cmd_plugin_call(Session& s) {
    const auto& o = s.options();
    const std::string& id = component_id_arg(o, 2);
    const std::string& action = arg(o, 3, "ACTION");
    // The agent's own rule for what a plugin may register: another action could not be answered.
    if (!contract::valid_topic_level(action)) {
        throw UsageError("ACTION '" + action + "' is not one topic level (not empty, no '/', '+' " +
                         "or '#')");
    }
    expect_args(o, 5);
    Document payload = call_payload(o);
    // No wait beyond --timeout: the agent answers when the plugin's handler returns, however long
    // that takes.
    const Answer answer =
        s.request(s.topics().component_command(id, action),
                  s.topics().component_command_result(id, action), std::move(payload));
    if (s.json() || !answer.ok) return s.report(printable(action), answer);
    s.out() << printable(action) << ": ok\n";
    for (const auto& m : answer.doc.GetObject()) {
        const std::string name = m.name.GetString();
        if (common_member(name)) continue;
        s.out() << printable(name) << "=" << printable(str(answer.doc, name.c_str())) << "\n";
    }
    return kOk;
}

}  // namespace lucid::host::ctl
