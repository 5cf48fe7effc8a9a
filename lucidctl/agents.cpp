// agents (list, --prune, forget) and watch: what is on the broker, not one agent's command.
#include <algorithm>
#include <map>
#include <optional>
#include <ostream>

#include "contract/label_selector.hpp"
#include "contract/labels.hpp"
#include "contract/payloads.hpp"
#include "contract/timestamp.hpp"
#include "lucid/registry/identifiers.hpp"
#include "lucid/registry/registry_json.hpp"
#include "lucidctl/fleet_view.hpp"
#include "lucidctl/text_table.hpp"
#include "lucidctl/verbs.hpp"

namespace lucid::host::ctl {
namespace {

using rapidjson::Document;
using rapidjson::Value;

constexpr const char* kDefaultPruneAge = "7d";

// --select, parsed: a usage error names the selector and what is wrong with it.
std::optional<contract::LabelSelector> selector_option(Session& s) {
    const auto text = command_option(s.options(), "select");
    if (!text) return std::nullopt;
    auto selector = contract::parse_label_selector(*text);
    if (!selector) throw UsageError(selector.error().message);
    return std::move(selector.value());
}

std::string last_seen_text(const AgentPresence& p) {
    if (p.online) return "now";
    if (p.last_seen.empty()) return "-";
    return p.last_seen + (p.offline_for ? " (" + format_duration(*p.offline_for) + " ago)" : "");
}

// "3", "3 (1 failed)", or "-" when the agent published no core/components.
std::string components_text(const FleetAgent& agent) {
    if (!agent.components) return "-";
    std::string text = std::to_string(agent.components->size());
    if (const auto failed = agent.failed_components()) {
        text += " (" + std::to_string(failed) + " failed)";
    }
    return text;
}

std::string join(const std::vector<std::string>& words, const char* separator) {
    std::string out;
    for (const auto& w : words) out += (out.empty() ? "" : separator) + w;
    return out;
}

// One agent for `agents --json`: its status as published, plus what lucidctl makes of it now
// and what its other snapshots say (labels, which an offline agent's Will does not carry).
std::string agent_json(const FleetAgent& agent) {
    Document doc = parse_object(agent.status_payload);
    auto& a = doc.GetAllocator();
    const auto& p = agent.presence;
    const auto set = [&](const char* key, Value value) {
        doc.RemoveMember(key);
        doc.AddMember(Value(key, a), value, a);
    };
    set("last_seen", p.last_seen.empty() ? Value() : Value(p.last_seen, a));
    set("labels", contract::labels_to_json(agent.labels, a));
    set("health", agent.health.empty() ? Value() : Value(agent.health, a));
    Value reasons(rapidjson::kArrayType);
    for (const auto& r : agent.degraded_reasons) reasons.PushBack(Value(r, a), a);
    set("degraded_reasons", std::move(reasons));
    Value components;
    if (agent.components) {
        components.SetObject();
        for (const auto& [cid, c] : *agent.components) {
            Value one(rapidjson::kObjectType);
            one.AddMember("version", Value(c.version, a), a);
            one.AddMember("state", Value(c.state, a), a);
            components.AddMember(Value(cid, a), one, a);
        }
    }
    set("components", std::move(components));
    set("deployment", agent.deployment ? Value(agent.deployment->state, a) : Value());
    return contract::to_json(doc);
}

int print_fleet_summary(Session& s, const FleetSummary& summary) {
    if (s.json()) {
        Document doc(rapidjson::kObjectType);
        auto& a = doc.GetAllocator();
        doc.AddMember("agents", Value(static_cast<std::uint64_t>(summary.agents)), a);
        doc.AddMember("online", Value(static_cast<std::uint64_t>(summary.online)), a);
        doc.AddMember("offline", Value(static_cast<std::uint64_t>(summary.agents - summary.online)),
                      a);
        doc.AddMember("degraded", Value(static_cast<std::uint64_t>(summary.degraded)), a);
        Value versions(rapidjson::kArrayType);
        for (const auto& v : summary.versions) {
            Value one(rapidjson::kObjectType);
            one.AddMember("version", Value(v.version, a), a);
            one.AddMember("agents", Value(static_cast<std::uint64_t>(v.agents)), a);
            one.AddMember("online", Value(static_cast<std::uint64_t>(v.online)), a);
            versions.PushBack(one, a);
        }
        doc.AddMember("versions", versions, a);
        Value components(rapidjson::kArrayType);
        for (const auto& c : summary.components) {
            Value one(rapidjson::kObjectType);
            one.AddMember("component", Value(c.component, a), a);
            one.AddMember("version", Value(c.version, a), a);
            one.AddMember("state", Value(c.state, a), a);
            one.AddMember("agents", Value(static_cast<std::uint64_t>(c.agents)), a);
            components.PushBack(one, a);
        }
        doc.AddMember("components", components, a);
        Value deployments(rapidjson::kObjectType);
        for (const auto& [state, count] : summary.deployments) {
            deployments.AddMember(Value(state, a), Value(static_cast<std::uint64_t>(count)), a);
        }
        doc.AddMember("deployments", deployments, a);
        s.out() << contract::to_json(doc) << "\n";
        return kOk;
    }
    s.out() << summary.agents << " agent(s): " << summary.online << " online, "
            << summary.agents - summary.online << " offline, " << summary.degraded
            << " degraded\n\n";
    TextTable versions({"AGENT VERSION", "AGENTS", "ONLINE"});
    for (const auto& v : summary.versions) {
        versions.add({v.version.empty() ? "-" : v.version, std::to_string(v.agents),
                      std::to_string(v.online)});
    }
    versions.print(s.out());
    s.out() << "\n";
    TextTable components({"COMPONENT", "VERSION", "STATE", "AGENTS"});
    for (const auto& c : summary.components) {
        components.add({c.component, c.version, c.state, std::to_string(c.agents)});
    }
    components.print(s.out());
    s.out() << "\n";
    TextTable deployments({"DESIRED STATE", "AGENTS"});
    for (const auto& [state, count] : summary.deployments) {
        deployments.add({state, std::to_string(count)});
    }
    deployments.print(s.out());
    return kOk;
}

// Clears every retained message of one agent (its status last, so that an interrupted forget
// still lists the agent and can be run again).
std::size_t forget_agent(Session& s, const std::string& id) {
    const contract::AgentTopics topics(s.target().topic_root, id);
    auto retained = s.client().retained(topics.base() + "/#", s.deadline());
    std::stable_partition(retained.begin(), retained.end(),
                          [&](const ReceivedMessage& m) { return m.topic != topics.status(); });
    for (const auto& m : retained) s.client().publish(m.topic, "", true);
    return retained.size();
}

int print_forgotten(Session& s, const std::vector<std::string>& ids) {
    if (s.json()) {
        Document doc(rapidjson::kObjectType);
        auto& a = doc.GetAllocator();
        Value list(rapidjson::kArrayType);
        for (const auto& id : ids) list.PushBack(Value(id, a), a);
        doc.AddMember("ok", true, a);
        doc.AddMember("forgotten", list, a);
        s.out() << contract::to_json(doc) << "\n";
    } else if (ids.empty()) {
        s.out() << "no agent to forget\n";
    }
    return kOk;
}

int cmd_agents_prune(Session& s) {
    expect_args(s.options(), 1);
    const std::string age_text =
        command_option(s.options(), "older-than").value_or(kDefaultPruneAge);
    const auto age = parse_age(age_text);
    if (!age || *age < 1) {
        throw UsageError(
            "--older-than must be an age of at least 1s like 7d, 12h, 30m or 90s, got '" +
            age_text + "'");
    }
    std::vector<std::string> forgotten;
    for (const auto& [id, agent] : read_fleet(s, selector_option(s))) {
        const auto& p = agent.presence;
        if (p.online || !p.offline_for || *p.offline_for <= *age) continue;
        forget_agent(s, id);
        forgotten.push_back(id);
        if (!s.json()) s.out() << "forgot " << id << " (" << Session::offline_since(p) << ")\n";
    }
    return print_forgotten(s, forgotten);
}

int cmd_agents_forget(Session& s) {
    const std::string& id = arg(s.options(), 2, "agent id");
    expect_args(s.options(), 3);
    if (auto error = registry::identifier_error("agent_id", id)) throw UsageError(*error);
    const auto agents = read_fleet(s);
    auto it = agents.find(id);
    if (it == agents.end()) {
        const std::string error = "agent " + id + " is not on the broker";
        s.err() << error << "\n";
        if (s.json()) print_json_error(s, error);
        return kCommandFailed;
    }
    if (it->second.presence.online) {
        const std::string error = "agent " + id + " is online: not forgetting it";
        s.err() << error << "\n";
        if (s.json()) print_json_error(s, error);
        return kCommandFailed;
    }
    forget_agent(s, id);
    if (!s.json()) s.out() << "forgot " << id << "\n";
    return print_forgotten(s, {id});
}

}  // namespace

Fleet read_fleet(Session& s, const std::optional<contract::LabelSelector>& selector) {
    const std::string& root = s.target().topic_root;
    Fleet fleet = fleet_from_retained(root, s.client().retained(fleet_filters(root), s.deadline()),
                                      SystemClock::now());
    if (!selector) return fleet;
    for (auto it = fleet.begin(); it != fleet.end();) {
        it = selector->matches(it->second.labels) ? std::next(it) : fleet.erase(it);
    }
    return fleet;
}

Fleet read_agents(Session& s, const std::vector<std::string>& ids) {
    if (ids.empty()) return {};
    const std::string& root = s.target().topic_root;
    std::vector<std::string> filters;
    for (const auto& id : ids) {
        for (const auto& filter : fleet_filters(root)) {
            // root/+/x → root/<id>/x
            filters.push_back(root + "/" + id + filter.substr(root.size() + 2));
        }
    }
    return fleet_from_retained(root, s.client().retained(filters, s.deadline()),
                               SystemClock::now());
}

int cmd_agents(Session& s) {
    if (s.options().words.size() >= 2) {
        if (s.options().words[1] == "forget") return cmd_agents_forget(s);
        throw UsageError(
            unknown_word_error("agents subcommand", s.options().words[1], known_words({"agents"})));
    }
    if (command_switch(s.options(), "prune")) return cmd_agents_prune(s);
    if (command_option(s.options(), "older-than")) {
        throw UsageError("--older-than goes with --prune");
    }
    if (command_switch(s.options(), "summary")) {
        if (command_option(s.options(), "sort"))
            throw UsageError("--sort goes with the list, not --summary");
        return print_fleet_summary(s, summarize(read_fleet(s, selector_option(s))));
    }
    const std::string sort = command_option(s.options(), "sort").value_or("agent");
    const auto& keys = fleet_sort_keys();
    if (std::find(keys.begin(), keys.end(), sort) == keys.end()) {
        throw UsageError(unknown_word_error("--sort key", sort, keys) + "; one of " +
                         join(keys, ", "));
    }
    const Fleet fleet = read_fleet(s, selector_option(s));
    const auto agents = sorted_agents(fleet, sort);
    if (s.json()) {
        s.out() << "[";
        bool first = true;
        for (const FleetAgent* agent : agents) {
            s.out() << (first ? "" : ",") << agent_json(*agent);
            first = false;
        }
        s.out() << "]\n";
        return kOk;
    }
    bool any_conflict = false;
    for (const FleetAgent* agent : agents)
        any_conflict = any_conflict || !agent->presence.conflict.empty();
    std::vector<std::string> headers{"AGENT",      "STATE",  "HEALTH",    "VERSION",
                                     "COMPONENTS", "UPTIME", "LAST SEEN", "LABELS"};
    if (any_conflict) headers.push_back("CONFLICT");
    TextTable table(headers);
    for (const FleetAgent* agent : agents) {
        const auto& p = agent->presence;
        const Document doc = parse_object(agent->status_payload);
        const std::string labels =
            agent->labels.empty() ? "-" : contract::labels_text(agent->labels);
        // An offline agent's core/state is its last word, not its health now.
        const std::string health = agent->health.empty() ? "-"
                                   : p.online            ? agent->health
                                                         : "(" + agent->health + ")";
        table.add({agent->id, str(doc, "state"), health, p.version, components_text(*agent),
                   p.uptime_s ? format_duration(*p.uptime_s) : "-", last_seen_text(p), labels,
                   p.conflict});
    }
    table.print(s.out());
    return kOk;
}

int cmd_fleet(Session& s) {
    expect_args(s.options(), 1);
    return print_fleet_summary(s, summarize(read_fleet(s, selector_option(s))));
}

int cmd_watch(Session& s) {
    const std::string filter = s.target().topic_root + "/" + s.target().agent_id + "/#";
    s.client().subscribe(filter);
    while (true) {
        auto message = s.client().wait_for([](const ReceivedMessage&) { return true; },
                                           SteadyClock::now() + std::chrono::hours(24));
        if (!message) continue;
        const std::string received = contract::utc_timestamp(SystemClock::now());
        if (s.json()) {
            Document doc(rapidjson::kObjectType);
            auto& a = doc.GetAllocator();
            doc.AddMember("received", Value(received, a), a);
            doc.AddMember("topic", Value(message->topic, a), a);
            doc.AddMember("retain", message->retain, a);
            // A JSON payload is embedded as JSON; anything else as a string.
            Document payload;
            if (!message->payload.empty() && !registry::json_too_deep(message->payload) &&
                !payload.Parse(message->payload.c_str(), message->payload.size()).HasParseError()) {
                doc.AddMember("payload", Value(payload, a), a);
            } else {
                doc.AddMember("payload", Value(message->payload, a), a);
            }
            s.out() << contract::to_json(doc) << std::endl;
        } else {
            // Shown as text, so that a payload cannot drive the operator's terminal.
            s.out() << received << " " << printable(message->topic)
                    << (message->retain ? " (retained) " : " ") << printable(message->payload)
                    << std::endl;
        }
        // SIGPIPE is ignored: a closed stdout (`lucidctl watch | head`) shows up here.
        if (!s.out()) return kOk;
    }
}

}  // namespace lucid::host::ctl
