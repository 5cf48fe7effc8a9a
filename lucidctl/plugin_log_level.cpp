// plugin log-level ID [LEVEL]: a component's own log level (contract §4.15). Without LEVEL it is
// read from the component's retained status (`log_level`, present while it has one of its own)
// beside the agent's levels from core/cfg/state; with LEVEL it is set through
// components/{cid}/cfg/logging/set (`default`: removed, the agent's levels apply again).
#include <ostream>

#include "common/log_levels.hpp"
#include "contract/payloads.hpp"
#include "contract/topics.hpp"
#include "lucidctl/text_table.hpp"
#include "lucidctl/verbs.hpp"

namespace lucid::host::ctl {
namespace {

using rapidjson::Document;
using rapidjson::Value;
namespace topics = contract::topics;

int show_level(Session& s, const std::string& id) {
    const auto status = s.retained_of_component(s.topics().component_status(id), id, "level");
    if (!status) return kCommandFailed;
    const Document doc = parse_object(*status);
    const std::string own = str(doc, "log_level");
    if (s.json()) {
        Document out(rapidjson::kObjectType);
        auto& a = out.GetAllocator();
        out.AddMember("component_id", Value(id, a), a);
        out.AddMember("log_level", own.empty() ? Value() : Value(own, a), a);
        s.out() << contract::to_json(out) << "\n";
        return kOk;
    }
    if (!own.empty()) {
        s.out() << id << ": " << printable(own) << " (its own level)\n";
        return kOk;
    }
    // Which levels it follows, so that "none of its own" says what is in force.
    const auto cfg = s.retained_one(s.topics().core_cfg_state());
    const Document core = parse_object(cfg.value_or("{}"));
    std::string agent_levels;
    if (core.HasMember("cfg") && core["cfg"].IsObject()) {
        agent_levels = " (log_level " + printable(str(core["cfg"], "log_level", "?")) +
                       ", logs_level " + printable(str(core["cfg"], "logs_level", "?")) + ")";
    }
    s.out() << id << ": the agent's levels" << agent_levels << "\n";
    return kOk;
}

int set_level(Session& s, const std::string& id, const std::string& level) {
    Document payload(rapidjson::kObjectType);
    auto& a = payload.GetAllocator();
    Value value;  // null: default
    if (!is_default_level(level)) {
        const auto parsed = parse_level_name(level);
        if (!parsed) {
            throw UsageError("LEVEL must be one of " + std::string(kLevelNames) +
                             ", or default, got '" + level + "'");
        }
        value = Value(std::string(stream_level_name(*parsed)), a);
    }
    payload.AddMember("log_level", value, a);
    const Answer answer =
        s.request(s.topics().component(id, topics::kComponentLogLevelSet),
                  s.topics().component(id, topics::kComponentLogLevelResult), std::move(payload));
    if (!answer.ok || s.json()) return s.report("cfg/logging/set", answer);
    s.out() << "cfg/logging/set: ok  component_id=" << id
            << "  log_level=" << str(answer.doc, "log_level", "default") << "\n";
    return kOk;
}

}  // namespace

int cmd_plugin_log_level(Session& s) {
    const std::string& id = component_id_arg(s.options(), 2);
    expect_args(s.options(), 4);
    if (s.options().words.size() == 3) return show_level(s, id);
    return set_level(s, id, s.options().words[3]);
}

}  // namespace lucid::host::ctl
