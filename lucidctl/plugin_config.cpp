// plugin config get ID | set ID KEY=VALUE...: a component's config (contract §4.5), read from its
// retained components/{cid}/cfg/state and changed through components/{cid}/cfg/set, which the
// plugin may refuse.
#include <ostream>
#include <vector>

#include "lucidctl/nearest_word.hpp"
#include "lucidctl/text_table.hpp"
#include "lucidctl/verbs.hpp"

namespace lucid::host::ctl {
namespace {

using rapidjson::Document;
using rapidjson::Value;

int config_get(Session& s) {
    const std::string& id = component_id_arg(s.options(), 3);
    expect_args(s.options(), 4);
    // Every installed component has a retained cfg/state, `{}` at least.
    const auto cfg = s.retained_of_component(s.topics().component_cfg_state(id), id, "config");
    if (!cfg) return kCommandFailed;
    if (s.json()) {
        s.out() << *cfg << "\n";
        return kOk;
    }
    const Document doc = parse_object(*cfg);
    if (!doc.HasMember("cfg") || !doc["cfg"].IsObject() || doc["cfg"].ObjectEmpty()) {
        // Said on stderr: stdout stays the (empty) list of settings a script reads.
        s.err() << id << " has no config: lucidctl plugin config set " << id << " KEY=VALUE\n";
        return kOk;
    }
    for (const auto& m : doc["cfg"].GetObject()) {
        s.out() << printable(m.name.GetString()) << "="
                << printable(str(doc["cfg"], m.name.GetString(), "null")) << "\n";
    }
    return kOk;
}

// A key the component's config does not have, near one it has, is most likely a typo: said on
// stderr before sending (the plugin may take new keys, so it is sent all the same).
void warn_unknown_keys(Session& s, const std::string& id, const Value& set) {
    const auto cfg = s.retained_one(s.topics().component_cfg_state(id));
    if (!cfg) return;  // the agent answers component not found
    const Document doc = parse_object(*cfg);
    if (!doc.HasMember("cfg") || !doc["cfg"].IsObject()) return;
    std::vector<std::string> known;
    for (const auto& m : doc["cfg"].GetObject()) known.emplace_back(m.name.GetString());
    for (const auto& m : set.GetObject()) {
        const std::string key = m.name.GetString();
        if (doc["cfg"].HasMember(key.c_str())) continue;
        if (auto near = nearest_word(key, known)) {
            s.err() << "lucidctl: warning: " << id << "'s config has no key '" << printable(key)
                    << "' (did you mean '" << printable(*near) << "'?); sent as a new key\n";
        }
    }
}

int config_set(Session& s) {
    const std::string& id = component_id_arg(s.options(), 3);
    const auto& words = s.options().words;
    if (words.size() < 5) throw UsageError("missing KEY=VALUE");
    Document payload(rapidjson::kObjectType);
    auto& a = payload.GetAllocator();
    Value set(rapidjson::kObjectType);
    for (std::size_t i = 4; i < words.size(); ++i) {
        add_setting(set, words[i], a, SettingKeys::component);
    }
    warn_unknown_keys(s, id, set);
    payload.AddMember("set", set, a);
    // The plugin's config_changed runs within the agent's plugin call time limit.
    const Answer answer =
        s.request(s.topics().component(id, "cfg/set"), s.topics().component_cfg_set_result(id),
                  std::move(payload), agent_bound("cfg/set"));
    return s.report("cfg/set", answer);
}

}  // namespace

int cmd_plugin_config(Session& s) {
    const std::string& sub = arg(s.options(), 2, "plugin config subcommand (get, set)");
    if (sub == "get") return config_get(s);
    if (sub == "set") return config_set(s);
    throw UsageError(
        unknown_word_error("plugin config subcommand", sub, known_words({"plugin", "config"})));
}

}  // namespace lucid::host::ctl
