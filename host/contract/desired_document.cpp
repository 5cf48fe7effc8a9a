#include "contract/desired_document.hpp"

#include <algorithm>
#include <set>

#include "contract/json_text.hpp"
#include "contract/payloads.hpp"
#include "lucid/registry/echoed_value.hpp"
#include "lucid/registry/identifiers.hpp"
#include "lucid/registry/registry_json.hpp"
#include "lucid/registry/semver.hpp"

namespace lucid::host::contract {
namespace {

Error invalid(const std::string& what) {
    return Error{Errc::invalid, "invalid desired state: " + what};
}

std::string text_of(const rapidjson::Value& value) {
    return {value.GetString(), value.GetStringLength()};
}

// Refuses a member of `object` outside `known`; `where` names the object ("" at the top).
Status only_known(const rapidjson::Value& object, std::initializer_list<std::string_view> known,
                  const std::string& where) {
    for (const auto& member : object.GetObject()) {
        const std::string_view name(member.name.GetString(), member.name.GetStringLength());
        bool found = false;
        for (const auto k : known) found = found || k == name;
        if (!found) {
            return invalid("unknown field '" + registry::echoed_value(name) + "'" +
                           (where.empty() ? "" : " in " + where));
        }
    }
    return done();
}

Expected<std::string> component_id_at(const rapidjson::Value& value, const std::string& where) {
    if (!value.IsString()) return invalid(where + " must be a component id (a string)");
    const std::string id = text_of(value);
    if (!registry::is_valid_identifier(id)) {
        return invalid(where + " '" + registry::echoed_value(id) +
                       "' is not a component id ([a-z0-9][a-z0-9_-]{0,63})");
    }
    return id;
}

Status read_sources(const rapidjson::Value& artifacts, const std::string& where,
                    std::map<std::string, std::string>& out) {
    if (!artifacts.IsObject()) return invalid(where + " must be an object of platforms");
    for (const auto& member : artifacts.GetObject()) {
        const std::string platform = text_of(member.name);
        if (!valid_platform_tag(platform)) {
            return invalid(where + " key '" + registry::echoed_value(platform) +
                           "' is not a platform tag ([a-z][a-z0-9_]{0,63}, e.g. linux_aarch64)");
        }
        const std::string at = where + "." + platform;
        if (!member.value.IsObject()) return invalid(at + " must be an object with a source");
        if (Status known = only_known(member.value, {"source"}, at); !known) {
            return known;
        }
        const auto source = member.value.FindMember("source");
        if (source == member.value.MemberEnd() || !source->value.IsObject()) {
            return invalid(at + ".source must be an object");
        }
        out[platform] = to_json(source->value);
    }
    return done();
}

Expected<DesiredComponent> read_component(const std::string& id, const rapidjson::Value& value) {
    const std::string where = "components." + id;
    if (!value.IsObject()) return invalid(where + " must be an object");
    const auto object = value.GetObject();
    if (Status known = only_known(value,
                                  {"version", "enabled", "config", "artifacts", "isolation",
                                   "limits", "run_as", "allow_downgrade", "rollback_permit"},
                                  where);
        !known) {
        return known.error();
    }
    DesiredComponent component;
    const auto version = object.FindMember("version");
    if (version == object.MemberEnd() || !version->value.IsString()) {
        return invalid(where + ".version must be a string");
    }
    component.version = text_of(version->value);
    if (!registry::Version::parse(component.version)) {
        return invalid(where + ".version '" + registry::echoed_value(component.version) +
                       "' is not a semantic version");
    }
    if (const auto enabled = object.FindMember("enabled"); enabled != object.MemberEnd()) {
        if (!enabled->value.IsBool()) return invalid(where + ".enabled must be true or false");
        component.enabled = enabled->value.GetBool();
    }
    if (const auto allow = object.FindMember("allow_downgrade"); allow != object.MemberEnd()) {
        if (!allow->value.IsBool()) {
            return invalid(where + ".allow_downgrade must be true or false");
        }
        component.allow_downgrade = allow->value.GetBool();
    }
    if (const auto permit = object.FindMember("rollback_permit"); permit != object.MemberEnd()) {
        if (!permit->value.IsString()) return invalid(where + ".rollback_permit must be a string");
        if (!component.allow_downgrade) {
            return invalid(where + ".rollback_permit goes with allow_downgrade: true");
        }
        component.rollback_permit = text_of(permit->value);
    }
    if (const auto config = object.FindMember("config"); config != object.MemberEnd()) {
        if (!config->value.IsObject()) return invalid(where + ".config must be an object");
        component.config_json = to_json(config->value);
    }
    if (const auto isolation = object.FindMember("isolation"); isolation != object.MemberEnd()) {
        if (!isolation->value.IsString() ||
            (isolation->value != "in_process" && isolation->value != "process")) {
            return invalid(where + ".isolation must be \"in_process\" or \"process\"");
        }
        component.isolation = text_of(isolation->value);
    }
    if (const auto limits = object.FindMember("limits"); limits != object.MemberEnd()) {
        try {
            component.limits = registry::read_limits(limits->value);
        } catch (const std::invalid_argument& e) {
            return invalid(where + ": " + e.what());
        }
    }
    if (const auto run_as = object.FindMember("run_as"); run_as != object.MemberEnd()) {
        try {
            component.run_as = registry::read_run_as(run_as->value);
        } catch (const std::invalid_argument& e) {
            return invalid(where + ": " + e.what());
        }
    }
    const auto artifacts = object.FindMember("artifacts");
    if (artifacts == object.MemberEnd()) return invalid(where + ".artifacts is missing");
    if (Status read = read_sources(artifacts->value, where + ".artifacts", component.sources);
        !read) {
        return read.error();
    }
    return component;
}

// `agent`: {"version", "artifacts"}; what the agent updates itself to.
Expected<DesiredAgent> read_agent(const rapidjson::Value& value) {
    if (!value.IsObject()) return invalid("agent must be an object");
    if (Status known = only_known(value, {"version", "artifacts"}, "agent"); !known) {
        return known.error();
    }
    DesiredAgent agent;
    const auto version = value.FindMember("version");
    if (version == value.MemberEnd() || !version->value.IsString()) {
        return invalid("agent.version must be a string");
    }
    agent.version = text_of(version->value);
    if (!registry::Version::parse(agent.version)) {
        return invalid("agent.version '" + registry::echoed_value(agent.version) +
                       "' is not a semantic version");
    }
    const auto artifacts = value.FindMember("artifacts");
    if (artifacts == value.MemberEnd()) return invalid("agent.artifacts is missing");
    if (Status read = read_sources(artifacts->value, "agent.artifacts", agent.sources); !read) {
        return read.error();
    }
    return agent;
}

}  // namespace

bool valid_rollout_id(const std::string& id) {
    if (id.empty() || id.size() > 64) return false;
    return std::all_of(id.begin(), id.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
    });
}

bool valid_platform_tag(const std::string& tag) {
    if (tag.empty() || tag.size() > 64 || tag[0] < 'a' || tag[0] > 'z') return false;
    for (char c : tag) {
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
    }
    return true;
}

Expected<DesiredDocument> parse_desired_document(std::string_view payload) {
    rapidjson::Document doc;
    if (Status parsed = parse_json_text(payload, doc); !parsed) {
        return invalid(parsed.error().message);
    }
    if (!doc.IsObject()) return invalid("the document must be a JSON object");
    if (auto key = duplicate_key(doc)) {
        return invalid("duplicate key '" + registry::echoed_value(*key) + "'");
    }
    const auto object = doc.GetObject();
    if (Status known = only_known(
            doc,
            {"revision", "exclusive", "components", "remove", "rollout", "rollback_of", "agent"},
            "");
        !known) {
        return known.error();
    }
    DesiredDocument out;
    const auto revision = object.FindMember("revision");
    if (revision == object.MemberEnd() || !revision->value.IsUint64() ||
        revision->value.GetUint64() < 1 || revision->value.GetUint64() > kMaxDesiredRevision) {
        return invalid("revision must be an integer from 1 to " +
                       std::to_string(kMaxDesiredRevision));
    }
    out.revision = revision->value.GetUint64();
    for (const auto& [name, field] :
         {std::pair<const char*, std::string*>{"rollout", &out.rollout},
          std::pair<const char*, std::string*>{"rollback_of", &out.rollback_of}}) {
        const auto it = object.FindMember(name);
        if (it == object.MemberEnd()) continue;
        if (!it->value.IsString() || !valid_rollout_id(text_of(it->value))) {
            return invalid(std::string(name) + " must be a rollout id ([a-z0-9-]{1,64})");
        }
        *field = text_of(it->value);
    }
    if (const auto exclusive = object.FindMember("exclusive"); exclusive != object.MemberEnd()) {
        if (!exclusive->value.IsBool()) return invalid("exclusive must be true or false");
        out.exclusive = exclusive->value.GetBool();
    }
    if (const auto components = object.FindMember("components"); components != object.MemberEnd()) {
        if (!components->value.IsObject()) return invalid("components must be an object");
        for (const auto& member : components->value.GetObject()) {
            auto id = component_id_at(member.name, "components key");
            if (!id) return id.error();
            auto component = read_component(id.value(), member.value);
            if (!component) return component.error();
            out.components.emplace(id.value(), std::move(component.value()));
        }
    }
    if (const auto remove = object.FindMember("remove"); remove != object.MemberEnd()) {
        if (!remove->value.IsArray()) return invalid("remove must be an array of component ids");
        std::set<std::string> seen;
        for (const auto& item : remove->value.GetArray()) {
            auto id = component_id_at(item, "remove item");
            if (!id) return id.error();
            if (out.components.count(id.value())) {
                return invalid("'" + id.value() + "' is both in components and in remove");
            }
            if (seen.insert(id.value()).second) out.remove.push_back(id.value());
        }
    }
    if (const auto agent = object.FindMember("agent"); agent != object.MemberEnd()) {
        auto read = read_agent(agent->value);
        if (!read) return read.error();
        out.agent = std::move(read.value());
    }
    return out;
}

Expected<std::string> source_for_platform(const std::map<std::string, std::string>& sources,
                                          const std::string& platform) {
    if (auto it = sources.find(platform); it != sources.end()) {
        return it->second;
    }
    std::string has;
    for (const auto& [tag, source] : sources) {
        has += (has.empty() ? "" : ", ") + registry::echoed_value(tag);
    }
    return Error{Errc::not_found, "no artifact for platform " + platform + " (the document has " +
                                      (has.empty() ? "none" : has) + ")"};
}

}  // namespace lucid::host::contract
