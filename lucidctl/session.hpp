// One lucidctl invocation's link to the broker and the agent: the connection (made on first
// use), the agent's presence, and command requests with their deadlines.
//
// A command is published only to an agent that is not known to be offline: when its retained
// status says offline, request() throws AgentOffline ("agent <id> is offline since <time>",
// exit 3) at once instead of waiting for an answer that cannot come. While waiting, a live
// offline status (its Will, or a clean shutdown) ends the wait the same way.
//
// Deadlines: --timeout for the broker and for an answer, plus `extra_wait` for commands the
// agent itself bounds by a plugin's time limit (stop/restart/uninstall/install wait on a plugin's
// start or stop: agent_bound in verbs.hpp), plus every install progress event pushes the deadline
// again.
//
// Thread: one thread. Errors: BrokerUnreachable and AgentOffline (exit 3), UsageError (2),
// LocalError (a problem lucidctl found itself before asking the agent: 2).
#pragma once

#include <rapidjson/document.h>

#include <chrono>
#include <functional>
#include <iosfwd>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include "contract/topics.hpp"
#include "lucidctl/agent_presence.hpp"
#include "lucidctl/broker_client.hpp"
#include "lucidctl/commands.hpp"
#include "lucidctl/options.hpp"

namespace lucid::host::ctl {

using SteadyClock = std::chrono::steady_clock;

class UsageError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};
class LocalError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};
class AgentOffline : public BrokerUnreachable {
  public:
    using BrokerUnreachable::BrokerUnreachable;
};

// An answer of the agent: the parsed result and its raw text.
struct Answer {
    rapidjson::Document doc;
    std::string raw;
    bool ok = false;
};

// {} when the payload is not a JSON object (or too deep).
rapidjson::Document parse_object(const std::string& text);
// A field as text: strings as they are, numbers and booleans written out, null/missing → fallback.
std::string str(const rapidjson::Value& object, const char* key, const char* fallback = "");

// How a request is followed: its progress topic, and how long after a `handover` progress
// (zero: no handover is expected, and the agent going offline ends the wait).
struct RequestFlow {
    std::string_view progress = contract::topics::kInstallProgress;
    std::chrono::milliseconds after_handover{0};
};

class Session {
  public:
    Session(const CtlOptions& options, const CtlTarget& target, std::ostream& out,
            std::ostream& err);
    ~Session();

    BrokerClient& client();
    SteadyClock::time_point deadline() const { return SteadyClock::now() + options_.timeout; }
    const contract::AgentTopics& topics() const { return topics_; }
    std::ostream& out() { return out_; }
    std::ostream& err() { return err_; }
    bool json() const { return options_.json; }
    const CtlOptions& options() const { return options_; }
    const CtlTarget& target() const { return target_; }

    // The first retained message on one topic, or nullopt when the agent never published it.
    std::optional<std::string> retained_one(const std::string& topic);

    // The agent's presence from its retained status and core/state, read once per session.
    const AgentPresence& presence();
    // "offline since 2026-11-30T00:36:36.123Z (5m2s ago)".
    static std::string offline_since(const AgentPresence& presence);
    // The retained status and core/state read by presence(), as published (nullopt: none).
    const std::optional<std::string>& status_payload() { return presence(), status_raw_; }
    const std::optional<std::string>& core_state_payload() { return presence(), state_raw_; }
    // Throws AgentOffline when the agent's retained status says offline.
    void require_not_offline();
    // A component's retained document on `topic` (its status, its cfg/state), for commands that
    // show what the agent last said of it: nullopt after saying "component not found: ID" (on
    // stdout as JSON too with --json) when there is none; BrokerUnreachable when the broker has
    // no status of the agent at all. Of an offline agent, says on stderr that this is the last
    // known `what` of the component.
    std::optional<std::string> retained_of_component(const std::string& topic,
                                                     const std::string& id,
                                                     const std::string& what);

    // Publishes a command and waits for its result (see the top of this file).
    using ProgressFn = std::function<void(const rapidjson::Value&)>;
    // `uploading` is called about every 250 ms while the broker takes a large command.
    Answer request(const contract::topics::CommandTopics& command, rapidjson::Document payload,
                   std::chrono::milliseconds extra_wait = {}, const ProgressFn& on_progress = {},
                   const std::function<void()>& uploading = {});
    // The agent's own upgrade (contract §4.16): progress on core/evt/upgrade_progress, and after
    // its `handover` the agent going offline is expected: the wait for the result (given by the
    // build that ends up running) goes on for `after_handover` more.
    Answer request_upgrade(rapidjson::Document payload, std::chrono::milliseconds after_handover,
                           const ProgressFn& on_progress, const std::function<void()>& uploading);
    // The same for a command outside the core's, on absolute topics as AgentTopics builds them
    // (a component's cfg/set, a plugin's command).
    Answer request(const std::string& command_topic, const std::string& result_topic,
                   rapidjson::Document payload, std::chrono::milliseconds extra_wait = {});
    // Publishes a command with its request_id and expires_at, without waiting for the answer
    // (the caller reads its result topic among other messages: logs --follow renewing its
    // stream); returns the request_id.
    std::string post(const contract::topics::CommandTopics& command, rapidjson::Document payload);
    // Prints an answer (the raw JSON with --json; "name: ok ..." or "name failed: ..." otherwise)
    // and returns its exit code.
    int report(std::string_view name, const Answer& answer);

  private:
    Answer send(const std::string& command_topic, const std::string& result_topic,
                rapidjson::Document payload, std::chrono::milliseconds extra_wait,
                const ProgressFn& on_progress, const std::function<void()>& uploading,
                const RequestFlow& flow = RequestFlow());

    const CtlOptions& options_;
    const CtlTarget& target_;
    std::ostream& out_;
    std::ostream& err_;
    contract::AgentTopics topics_;
    std::unique_ptr<BrokerClient> client_;
    std::optional<AgentPresence> presence_;
    std::optional<std::string> status_raw_;
    std::optional<std::string> state_raw_;
};

}  // namespace lucid::host::ctl
