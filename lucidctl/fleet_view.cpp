#include "lucidctl/fleet_view.hpp"

#include <algorithm>
#include <functional>
#include <set>
#include <tuple>

#include "lucid/registry/semver.hpp"
#include "lucidctl/session.hpp"

namespace lucid::host::ctl {
namespace {

using rapidjson::Document;

// Newer first; versions that do not parse sort after those that do, as text.
bool newer(const std::string& a, const std::string& b) {
    const auto va = registry::Version::parse(a);
    const auto vb = registry::Version::parse(b);
    if (va && vb) return *va > *vb;
    if (va || vb) return va.has_value();
    return a > b;
}

std::vector<std::string> strings_at(const Document& doc, const char* key) {
    std::vector<std::string> out;
    if (!doc.IsObject() || !doc.HasMember(key) || !doc[key].IsArray()) return out;
    for (const auto& v : doc[key].GetArray()) {
        if (v.IsString()) out.emplace_back(v.GetString(), v.GetStringLength());
    }
    return out;
}

std::map<std::string, SeenComponent> components_of(const Document& doc) {
    std::map<std::string, SeenComponent> out;
    if (!doc.IsObject() || !doc.HasMember("components") || !doc["components"].IsObject()) {
        return out;
    }
    for (const auto& c : doc["components"].GetObject()) {
        if (!c.value.IsObject()) continue;
        out[std::string(c.name.GetString(), c.name.GetStringLength())] = {str(c.value, "version"),
                                                                          str(c.value, "state")};
    }
    return out;
}

}  // namespace

std::size_t FleetAgent::failed_components() const {
    if (!components) return 0;
    return static_cast<std::size_t>(
        std::count_if(components->begin(), components->end(),
                      [](const auto& c) { return c.second.state == "failed"; }));
}

std::string FleetAgent::installed(const std::string& component) const {
    if (!components) return "";
    const auto it = components->find(component);
    return it == components->end() ? "" : it->second.version;
}

std::vector<std::string> fleet_filters(const std::string& topic_root) {
    const std::string all = topic_root + "/+/";
    return {all + "status",          all + "core/state", all + "core/metadata",
            all + "core/components", all + "desired",    all + "core/deployment"};
}

Fleet fleet_from_retained(const std::string& topic_root,
                          const std::vector<ReceivedMessage>& messages,
                          SystemClock::time_point now) {
    Fleet fleet;
    std::set<std::string> with_status;
    std::map<std::string, std::vector<std::string>> state_ts;
    const std::string prefix = topic_root + "/";
    for (const auto& m : messages) {
        if (m.payload.empty() || m.topic.compare(0, prefix.size(), prefix) != 0) continue;
        const std::string rest = m.topic.substr(prefix.size());
        const auto slash = rest.find('/');
        if (slash == std::string::npos) continue;
        const std::string id = rest.substr(0, slash);
        const std::string what = rest.substr(slash + 1);
        FleetAgent& agent = fleet[id];
        agent.id = id;
        if (what == "desired") {
            agent.desired = m.payload;
            continue;
        }
        if (what == "core/deployment") {
            if (auto d = contract::parse_deployment(m.payload)) agent.deployment = d.value();
            continue;
        }
        const Document doc = parse_object(m.payload);
        if (!doc.IsObject()) continue;
        if (what == "status") {
            with_status.insert(id);
            agent.status_payload = m.payload;
        } else if (what == "core/metadata") {
            agent.platform = str(doc, "build_platform");
            if (doc.HasMember("labels")) {
                if (auto labels = contract::labels_from_json(doc["labels"]))
                    agent.labels = labels.value();
            }
        } else if (what == "core/state") {
            agent.health = str(doc, "state");
            agent.degraded_reasons = strings_at(doc, "degraded_reasons");
            state_ts[id].push_back(str(doc, "ts"));
        } else if (what == "core/components") {
            agent.components = components_of(doc);
        }
    }
    for (auto it = fleet.begin(); it != fleet.end();) {
        if (!with_status.count(it->first)) {
            it = fleet.erase(it);
            continue;
        }
        FleetAgent& agent = it->second;
        agent.presence =
            agent_presence(parse_object(agent.status_payload), state_ts[it->first], now);
        ++it;
    }
    return fleet;
}

const std::vector<std::string>& fleet_sort_keys() {
    static const std::vector<std::string> keys{"agent",   "state",      "health",
                                               "version", "components", "last-seen"};
    return keys;
}

std::vector<const FleetAgent*> sorted_agents(const Fleet& fleet, const std::string& key) {
    std::vector<const FleetAgent*> out;
    for (const auto& entry : fleet) out.push_back(&entry.second);  // by id already
    // Each order says whether a goes before b; equal ones keep the id order (stable sort).
    std::function<bool(const FleetAgent&, const FleetAgent&)> before;
    if (key == "state") {
        before = [](const FleetAgent& a, const FleetAgent& b) {
            return a.presence.online && !b.presence.online;
        };
    } else if (key == "health") {
        const auto rank = [](const FleetAgent& a) {
            return a.health == "degraded" ? 0 : a.health == "running" ? 2 : 1;
        };
        before = [rank](const FleetAgent& a, const FleetAgent& b) { return rank(a) < rank(b); };
    } else if (key == "version") {
        before = [](const FleetAgent& a, const FleetAgent& b) {
            return a.presence.version != b.presence.version &&
                   newer(a.presence.version, b.presence.version);
        };
    } else if (key == "components") {
        before = [](const FleetAgent& a, const FleetAgent& b) {
            const auto count = [](const FleetAgent& x) {
                return x.components ? x.components->size() : 0;
            };
            return count(a) > count(b);
        };
    } else if (key == "last-seen") {
        // The longest gone first; online agents last. An agent never seen is the oldest.
        before = [](const FleetAgent& a, const FleetAgent& b) {
            if (a.presence.online != b.presence.online) return b.presence.online;
            if (a.presence.online) return false;
            return a.presence.last_seen < b.presence.last_seen;  // ISO 8601 UTC sorts as text
        };
    } else {
        return out;  // "agent"
    }
    std::stable_sort(out.begin(), out.end(),
                     [&](const FleetAgent* a, const FleetAgent* b) { return before(*a, *b); });
    return out;
}

FleetSummary summarize(const Fleet& fleet) {
    FleetSummary s;
    std::map<std::string, FleetSummary::VersionCount> versions;
    std::map<std::tuple<std::string, std::string, std::string>, std::size_t> components;
    std::map<std::string, std::size_t> deployments;
    for (const auto& [id, agent] : fleet) {
        ++s.agents;
        const bool online = agent.presence.online;
        if (online) ++s.online;
        if (online && agent.health == "degraded") ++s.degraded;
        auto& v = versions[agent.presence.version];
        v.version = agent.presence.version;
        ++v.agents;
        if (online) ++v.online;
        if (agent.components) {
            for (const auto& [cid, c] : *agent.components) ++components[{cid, c.version, c.state}];
        }
        ++deployments[agent.deployment ? agent.deployment->state : "none"];
    }
    for (auto& [name, count] : versions) s.versions.push_back(count);
    std::stable_sort(s.versions.begin(), s.versions.end(),
                     [](const auto& a, const auto& b) { return newer(a.version, b.version); });
    for (const auto& [key, count] : components) {
        s.components.push_back({std::get<0>(key), std::get<1>(key), std::get<2>(key), count});
    }
    std::stable_sort(s.components.begin(), s.components.end(), [](const auto& a, const auto& b) {
        if (a.component != b.component) return a.component < b.component;
        return a.version != b.version && newer(a.version, b.version);
    });
    for (const auto& entry : deployments) s.deployments.push_back(entry);
    return s;
}

}  // namespace lucid::host::ctl
