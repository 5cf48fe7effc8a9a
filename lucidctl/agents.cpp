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
#include "lucidctl/text_table.hpp"
#include "lucidctl/verbs.hpp"

namespace lucid::host::ctl {
namespace {

using rapidjson::Document;
using rapidjson::Value;

constexpr const char* kDefaultPruneAge = "7d";

struct SeenAgent {
    std::string status_payload;
    std::vector<std::string> other_ts;
    AgentPresence presence;
    contract::Labels labels;  // from core/metadata, which the Will leaves alone
};

// The labels of a core/metadata payload; none when it has none or they are not valid labels.
contract::Labels metadata_labels(const std::string& payload) {
    const Document doc = parse_object(payload);
    if (!doc.IsObject() || !doc.HasMember("labels")) return {};
    auto labels = contract::labels_from_json(doc["labels"]);
    return labels ? std::move(labels.value()) : contract::Labels{};
}

// --select, parsed: a usage error names the selector and what is wrong with it.
std::optional<contract::LabelSelector> selector_option(Session& s) {
    const auto text = command_option(s.options(), "select");
    if (!text) return std::nullopt;
    auto selector = contract::parse_label_selector(*text);
    if (!selector) throw UsageError(selector.error().message);
    return std::move(selector.value());
}

// Every agent with a retained status under the topic root, by id (std::map: sorted), of those
// `selector` picks by their labels.
std::map<std::string, SeenAgent> seen_agents(
    Session& s, const std::optional<contract::LabelSelector>& selector = std::nullopt) {
    const std::string& root = s.target().topic_root;
    const auto found = s.client().retained({contract::all_agents_status_filter(root),
                                            root + "/+/core/state", root + "/+/core/metadata"},
                                           s.deadline());
    std::map<std::string, SeenAgent> agents;
    std::map<std::string, std::vector<std::string>> state_ts;
    std::map<std::string, contract::Labels> labels;
    for (const auto& m : found) {
        const std::string rest = m.topic.substr(root.size() + 1);
        const std::string id = rest.substr(0, rest.find('/'));
        if (rest == id + "/status") {
            agents[id].status_payload = m.payload;
        } else if (rest == id + "/core/metadata") {
            labels[id] = metadata_labels(m.payload);
        } else {
            state_ts[id].push_back(str(parse_object(m.payload), "ts"));
        }
    }
    const auto now = SystemClock::now();
    for (auto it = agents.begin(); it != agents.end();) {
        SeenAgent& agent = it->second;
        agent.labels = labels[it->first];
        if (selector && !selector->matches(agent.labels)) {
            it = agents.erase(it);
            continue;
        }
        agent.other_ts = state_ts[it->first];
        agent.presence = agent_presence(parse_object(agent.status_payload), agent.other_ts, now);
        ++it;
    }
    return agents;
}

std::string last_seen_text(const AgentPresence& p) {
    if (p.online) return "now";
    if (p.last_seen.empty()) return "-";
    return p.last_seen + (p.offline_for ? " (" + format_duration(*p.offline_for) + " ago)" : "");
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
    for (const auto& [id, agent] : seen_agents(s, selector_option(s))) {
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
    const auto agents = seen_agents(s);
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
    const auto agents = seen_agents(s, selector_option(s));
    if (s.json()) {
        // Each agent's status as published, plus what lucidctl makes of it now (and its labels,
        // which an offline agent's Will does not carry).
        s.out() << "[";
        bool first = true;
        for (const auto& [id, agent] : agents) {
            Document doc = parse_object(agent.status_payload);
            auto& a = doc.GetAllocator();
            const auto& p = agent.presence;
            doc.RemoveMember("last_seen");
            doc.AddMember("last_seen", p.last_seen.empty() ? Value() : Value(p.last_seen, a), a);
            doc.RemoveMember("labels");
            doc.AddMember("labels", contract::labels_to_json(agent.labels, a), a);
            s.out() << (first ? "" : ",") << contract::to_json(doc);
            first = false;
        }
        s.out() << "]\n";
        return kOk;
    }
    bool any_conflict = false;
    for (const auto& entry : agents)
        any_conflict = any_conflict || !entry.second.presence.conflict.empty();
    std::vector<std::string> headers{"AGENT",  "STATE",     "VERSION", "SESSION",
                                     "UPTIME", "LAST SEEN", "LABELS"};
    if (any_conflict) headers.push_back("CONFLICT");
    TextTable table(headers);
    for (const auto& [id, agent] : agents) {
        const auto& p = agent.presence;
        const Document doc = parse_object(agent.status_payload);
        const std::string labels = agent.labels.empty() ? "-" : contract::labels_text(agent.labels);
        table.add({id, str(doc, "state"), p.version, p.session,
                   p.uptime_s ? format_duration(*p.uptime_s) : "-", last_seen_text(p), labels,
                   p.conflict});
    }
    table.print(s.out());
    return kOk;
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
