#include "lucidctl/session.hpp"
#include "lucidctl/text_table.hpp"

#include <cmath>
#include <cstdio>
#include <iomanip>
#include <ostream>
#include <random>
#include <sstream>

#include "contract/payloads.hpp"
#include "contract/timestamp.hpp"
#include "lucid/registry/registry_json.hpp"

namespace lucid::host::ctl {
namespace {

namespace topics = contract::topics;
using rapidjson::Document;
using rapidjson::Value;

std::string new_request_id() {
    std::random_device rd;
    std::mt19937_64 rng(rd());
    char buf[40];
    std::snprintf(buf, sizeof buf, "ctl-%016llx", static_cast<unsigned long long>(rng()));
    return buf;
}

}  // namespace

Document parse_object(const std::string& text) {
    Document doc;
    if (registry::json_too_deep(text)) return Document(rapidjson::kObjectType);
    doc.Parse(text.c_str(), text.size());
    if (doc.HasParseError() || !doc.IsObject()) doc.SetObject();
    return doc;
}

std::string str(const Value& object, const char* key, const char* fallback) {
    if (!object.IsObject()) return fallback;
    auto it = object.FindMember(key);
    if (it == object.MemberEnd()) return fallback;
    if (it->value.IsString()) return printable(it->value.GetString());
    if (it->value.IsBool()) return it->value.GetBool() ? "true" : "false";
    if (it->value.IsInt64()) return std::to_string(it->value.GetInt64());
    if (it->value.IsUint64()) return std::to_string(it->value.GetUint64());
    if (it->value.IsNumber()) {
        // A fraction as JSON writes it (0.75, not 1: a config value must read back as set).
        const double v = it->value.GetDouble();
        if (std::isfinite(v) && v != std::trunc(v)) return contract::to_json(it->value);
        std::ostringstream s;
        s << std::fixed << std::setprecision(0) << it->value.GetDouble();
        return s.str();
    }
    if (it->value.IsNull()) return fallback;
    return contract::to_json(it->value);
}

Session::Session(const CtlOptions& options, const CtlTarget& target, std::ostream& out,
                 std::ostream& err)
    : options_(options),
      target_(target),
      out_(out),
      err_(err),
      topics_(target.topic_root, target.agent_id) {}

Session::~Session() = default;

BrokerClient& Session::client() {
    if (!client_) {
        client_ = std::make_unique<BrokerClient>(target_.endpoint, target_.tls, options_.timeout);
    }
    return *client_;
}

std::optional<std::string> Session::retained_one(const std::string& topic) {
    auto found = client().retained(topic, deadline());
    if (found.empty()) return std::nullopt;
    return found.front().payload;
}

const AgentPresence& Session::presence() {
    if (!presence_) {
        const auto found = client().retained({topics_.status(), topics_.core_state()}, deadline());
        Document status(rapidjson::kObjectType);
        std::vector<std::string> other_ts;
        for (const auto& m : found) {
            Document doc = parse_object(m.payload);
            if (m.topic == topics_.status()) {
                status = std::move(doc);
                status_raw_ = m.payload;
            } else {
                other_ts.push_back(str(doc, "ts"));
                state_raw_ = m.payload;
            }
        }
        presence_ = agent_presence(status, other_ts, SystemClock::now());
    }
    return *presence_;
}

std::string Session::offline_since(const AgentPresence& p) {
    if (p.last_seen.empty()) return "offline";
    std::string text = "offline since " + p.last_seen;
    if (p.offline_for) text += " (" + format_duration(*p.offline_for) + " ago)";
    return text;
}

void Session::require_not_offline() {
    const auto& p = presence();
    if (p.known && !p.online) {
        throw AgentOffline("agent " + target_.agent_id + " is " + offline_since(p));
    }
}

std::optional<std::string> Session::retained_of_component(const std::string& topic,
                                                          const std::string& id,
                                                          const std::string& what) {
    auto doc = retained_one(topic);
    const auto& p = presence();
    if (!doc) {
        // The agent deletes the retained documents of components it does not have.
        if (!p.known) {
            throw BrokerUnreachable("no status of agent '" + target_.agent_id +
                                    "' on the broker: is --agent right?");
        }
        const std::string error = "component not found: " + id;
        err_ << error << "\n";
        if (json()) print_json_error(out_, error);
        return std::nullopt;
    }
    if (p.known && !p.online) {
        err_ << "agent " << target_.agent_id << " is " << offline_since(p) << ": the last known "
             << what << " of " << id << "\n";
    }
    return doc;
}

Answer Session::request(const std::string& command_topic, const std::string& result_topic,
                        Document payload, std::chrono::milliseconds extra_wait) {
    return send(command_topic, result_topic, std::move(payload), extra_wait, {}, {});
}

Answer Session::request(const topics::CommandTopics& command, Document payload,
                        std::chrono::milliseconds extra_wait, const ProgressFn& on_progress,
                        const std::function<void()>& uploading) {
    return send(topics_.at(command.command), topics_.at(command.result), std::move(payload),
                extra_wait, on_progress, uploading);
}

Answer Session::request_upgrade(Document payload, std::chrono::milliseconds after_handover,
                                const ProgressFn& on_progress,
                                const std::function<void()>& uploading) {
    RequestFlow flow;
    flow.progress = topics::kUpgradeProgress;
    flow.after_handover = after_handover;
    return send(topics_.at(topics::kUpgrade.command), topics_.at(topics::kUpgrade.result),
                std::move(payload), {}, on_progress, uploading, flow);
}

namespace {

// The request_id and expires_at every command lucidctl sends carries (contract §3.4).
std::string stamp(Document& payload, const CtlOptions& options) {
    const std::string request_id = new_request_id();
    payload.AddMember("request_id", Value(request_id, payload.GetAllocator()),
                      payload.GetAllocator());
    if (options.expires_in) {
        const std::string expires =
            contract::utc_timestamp(SystemClock::now() + *options.expires_in);
        payload.AddMember("expires_at", Value(expires, payload.GetAllocator()),
                          payload.GetAllocator());
    }
    return request_id;
}

}  // namespace

std::string Session::post(const topics::CommandTopics& command, Document payload) {
    const std::string request_id = stamp(payload, options_);
    client().publish(topics_.at(command.command), contract::to_json(payload));
    return request_id;
}

Answer Session::send(const std::string& command_topic, const std::string& result_topic,
                     Document payload, std::chrono::milliseconds extra_wait,
                     const ProgressFn& on_progress, const std::function<void()>& uploading,
                     const RequestFlow& flow) {
    require_not_offline();
    const std::string request_id = stamp(payload, options_);
    const std::string progress_topic = topics_.at(flow.progress);
    bool handed_over = false;
    const std::string status_topic = topics_.status();
    client().subscribe(result_topic);
    if (on_progress) client().subscribe(progress_topic);
    client().publish(command_topic, contract::to_json(payload), false, uploading);
    // A progress event pushes the deadline: a large download may take longer than the
    // timeout as long as it keeps moving.
    const auto wait = options_.timeout + extra_wait;
    auto until = SteadyClock::now() + wait;
    while (true) {
        auto message = client().wait_for(
            [&](const ReceivedMessage& m) {
                return m.topic == result_topic || m.topic == progress_topic ||
                       (m.topic == status_topic && !m.retain);
            },
            until);
        if (!message) {
            const std::string unknown =
                presence().known ? "" : " (the broker has no status of it: is --agent right?)";
            const std::string restarted =
                handed_over ? " of its handover (lucidctl status shows last_upgrade once the "
                              "agent is back)"
                            : "";
            throw BrokerUnreachable(
                "no answer from agent '" + target_.agent_id + "' within " +
                std::to_string((handed_over ? wait + flow.after_handover : wait).count()) + " ms" +
                restarted + unknown);
        }
        Document doc = parse_object(message->payload);
        if (message->topic == status_topic) {
            // The Will (or a clean shutdown) while waiting: no answer is coming from this run.
            // After a handover it is the agent restarting as its next build, which answers.
            if (str(doc, "state") == "offline" && !handed_over) {
                // Seen live, it went offline now: the Will's own ts is when it was armed, at
                // the agent's connect, which may be days ago.
                const auto now = SystemClock::now();
                presence_ = agent_presence(doc, {}, now);
                presence_->last_seen = contract::utc_timestamp(now);
                presence_->offline_for = 0.0;
                throw AgentOffline("agent " + target_.agent_id +
                                   " went offline before answering (" + offline_since(*presence_) +
                                   "); if this command took it down, the agent answers it when "
                                   "it is back: see lucidctl plugin list");
            }
            continue;
        }
        if (str(doc, "request_id") != request_id) continue;
        if (message->topic == progress_topic) {
            on_progress(doc);
            until = SteadyClock::now() + wait;
            if (flow.after_handover.count() > 0 && str(doc, "phase") == "handover") {
                handed_over = true;
                until += flow.after_handover;
            }
            continue;
        }
        Answer answer;
        answer.ok = doc.HasMember("ok") && doc["ok"].IsBool() && doc["ok"].GetBool();
        answer.doc = std::move(doc);
        answer.raw = std::move(message->payload);
        return answer;
    }
}

int Session::report(std::string_view name, const Answer& answer) {
    const Document& doc = answer.doc;
    if (json()) {
        out_ << answer.raw << "\n";
    } else if (answer.ok) {
        out_ << name << ": ok";
        for (const char* key :
             {"component_id", "version", "isolation", "limits", "run_as", "demoted", "noop",
              "rolled_back", "restart_required", "snapshots_updated", "newly_revoked", "components",
              "components_state"}) {
            if (doc.HasMember(key)) out_ << "  " << key << "=" << str(doc, key);
        }
        out_ << "\n";
        if (doc.HasMember("warning")) err_ << "warning: " << str(doc, "warning") << "\n";
    } else {
        const std::string error = str(doc, "error", "(no error given)");
        err_ << name << " failed: " << error << "\n";
        // What an operator does next (a walk finding: the bare refusal left them guessing).
        const std::string not_running = "component not running: ";
        if (error.rfind(not_running, 0) == 0) {
            err_ << "start it first: lucidctl plugin start "
                 << printable(error.substr(not_running.size())) << "\n";
        }
    }
    return answer.ok ? kOk : kCommandFailed;
}

}  // namespace lucid::host::ctl
