// Runs MQTT commands off the network thread and answers them on their result topics.
//
// For every command message, on the command's lane: parse (contract/command_request.hpp) →
// malformed payloads get an `ok:false` result at once → a request_id already answered gets its
// first result republished unchanged (DedupStore) → otherwise the handler runs, its result is
// recorded, then published (QoS 1, not retained). Plugin-defined commands take the same path
// with the plugin's worker as their lane: admit() and finish() are the two halves around the
// plugin's handler (components/component_manager.hpp).
//
// Retained command messages are ignored: the broker would replay them on every reconnect.
//
// Three lanes: `fast` (ping, refresh, cfg/set, restart), `control` (component start, stop,
// restart, enable, disable and config: they call into plugins, which may take a while) and
// `slow` (install, uninstall: downloads). A download never delays a ping nor a component stop,
// and a slow plugin never delays a ping. A full lane answers `busy: command queue full` instead
// of blocking the network thread.
//
// Thread: submit() is called on the network thread (by the router) and never blocks; handlers
// run on the lane workers. The publisher and the dedup store must outlive the dispatcher.
//
//   dispatcher.add({"ping", topics.at(kPing.command), topics.at(kPing.result), Lane::fast,
//                   [](const CommandRequest& rq) { return CommandReply(contract::Result(...)); }});
//   router.add(topics.at(kPing.command), dispatcher.route(topics.at(kPing.command)));
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "commands/dedup_store.hpp"
#include "commands/work_lane.hpp"
#include "contract/command_request.hpp"
#include "contract/payloads.hpp"
#include "mqtt/message_router.hpp"
#include "mqtt/publisher.hpp"

namespace lucid::host::commands {

enum class Lane { fast, control, slow };

struct CommandReply {
    explicit CommandReply(contract::Result r, Durability d = Durability::immediate)
        : result(std::move(r)), durability(d) {}

    contract::Result result;
    // `immediate` for commands with side effects: their record is on disk before the result is
    // published, so a retry after a crash is still recognized.
    Durability durability;
    // Runs once the result was delivered to the broker (or the wait timed out): restart uses it
    // to exit only after its answer left the device.
    std::function<void()> after_delivery;
    // A command whose answer another process gives (the agent's upgrade hands over to the new
    // build, which publishes the final result, contract §4.16): this message (topic, payload)
    // goes out instead of `result`, and nothing is recorded. after_delivery waits for it.
    std::optional<std::pair<std::string, std::string>> instead;
};

using CommandHandler = std::function<CommandReply(const contract::CommandRequest&)>;

struct CommandSpec {
    std::string name;           // for logs
    std::string command_topic;  // absolute; may contain wildcards
    std::string result_topic;   // absolute
    Lane lane = Lane::fast;
    CommandHandler handler;
    // Told of every refusal the dispatcher answers itself, without running `handler` (a
    // malformed payload, a full lane, shutting down), before the result goes out: how a
    // command that changes what runs still gets its audit line and echoes its component_id.
    // Optional.
    std::function<void(const contract::CommandRequest&, contract::Result&)> on_refused = {};
};

class CommandDispatcher {
  public:
    // `now`: the clock `expires_at` is judged by (a test's own; the system clock otherwise).
    using Now = std::function<contract::Clock::time_point()>;
    CommandDispatcher(mqtt::Publisher& publisher, DedupStore& dedup, std::size_t lane_capacity,
                      Now now = contract::Clock::now);
    ~CommandDispatcher();  // stop()

    void add(CommandSpec spec);
    // The router handler for one registered command topic.
    mqtt::MessageHandler route(const std::string& command_topic);

    // Queues one command message for `spec` (network thread; never blocks). Usable directly for
    // commands whose result topic depends on the message topic (components/{cid}/cfg/set).
    void submit(std::shared_ptr<const CommandSpec> spec, const mqtt::MqttMessage& message);

    // The halves of running a command on a lane that is not the dispatcher's (a plugin's
    // worker), for that lane's thread. admit(): the request to run, or nullopt when it is
    // answered already (a malformed payload, a request_id answered before). finish(): records
    // the reply, then publishes it. `spec.handler` is not used.
    std::optional<contract::CommandRequest> admit(const CommandSpec& spec,
                                                  const std::string& payload);
    void finish(const CommandSpec& spec, const std::string& request_id, CommandReply reply);
    // Answers `error` without running the command (busy, shutting down, not running); not
    // recorded, so that the same request_id sent again runs.
    void refuse(const CommandSpec& spec, const std::string& payload, const std::string& error);

    // Stops the lanes: running commands finish, queued ones and any arriving later are answered
    // ok:false with kShuttingDown (and not recorded, so a retry after the restart runs them).
    // Then flushes the deferred dedup records.
    void stop();
    // The first half of stop(): queued and new commands are answered kShuttingDown at once,
    // running ones go on. Called before a shutdown cancels running work (downloads), so that a
    // queued command cannot slip into a lane the cancelled one just freed.
    void close();

    // True when the fast lane runs a probe task within `timeout`: the agent still answers
    // commands. The systemd watchdog is fed only while this holds.
    bool responsive(std::chrono::milliseconds timeout);

    static constexpr const char* kShuttingDown =
        "agent shutting down: command not run; send it again";

    // How long after_delivery waits for the broker's acknowledgement.
    static constexpr std::chrono::milliseconds kDeliveryTimeout{5000};

  private:
    void execute(const CommandSpec& spec, const mqtt::MqttMessage& message);
    void publish_result(const std::string& topic, const std::string& payload);

    mqtt::Publisher& publisher_;
    DedupStore& dedup_;
    const Now now_;
    WorkLane fast_;
    WorkLane control_;
    WorkLane slow_;
    std::atomic<bool> stopping_{false};
    std::map<std::string, std::shared_ptr<const CommandSpec>> specs_;
};

}  // namespace lucid::host::commands
