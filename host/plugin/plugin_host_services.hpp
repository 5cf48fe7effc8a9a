// What plugin hosting needs from the rest of the agent: the seam between host/plugin/ and the
// MQTT session, the registry and the snapshots. The agent core implements it over MQTT; unit
// tests use a fake.
//
// Thread: every member may be called from any plugin worker thread, concurrently; an
// implementation must be thread-safe and must not call back into the PluginContext that is
// calling it. Nothing here may block on the network: publish() queues.
// Errors: publish returns false when the message could not even be queued, persist_config
// says why it could not store; the others do not fail (an implementation logs its own
// problems). No exceptions.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/expected.hpp"
#include "contract/command_request.hpp"
#include "contract/component_state.hpp"
#include "contract/payloads.hpp"

namespace lucid::host {

// The live status of a component, as published on `components/{cid}/status`.
struct ComponentStatus {
    ComponentStatus() = default;
    ComponentStatus(ComponentState state_, std::string version_, std::string error_,
                    std::uint64_t dropped_ = 0)
        : state(state_),
          version(std::move(version_)),
          error(std::move(error_)),
          dropped_messages(dropped_) {}

    ComponentState state = ComponentState::stopped;
    std::string version;  // the component's version
    std::string error;    // empty when none
    // Messages on the plugin's subscriptions dropped since it started: its queue was full, or
    // it was unresponsive.
    std::uint64_t dropped_messages = 0;
    // Messages dropped since it started because a subscription asked for de-duplication
    // (LUCID_SUBSCRIBE_DEDUP) and had seen their envelope id (duplicate_filter.hpp).
    std::uint64_t duplicates_dropped = 0;
    // Where it runs (README "Process isolation"): "in_process" or "process"; the lifecycle fills
    // it in when the runtime did not.
    std::string isolation;
    // Process isolation: each containment measure and what became of it ("applied", ...).
    std::vector<std::pair<std::string, std::string>> containment;
    // Times it was started again after a crash, since it was last started by the lifecycle.
    std::uint64_t restarts = 0;
    // Why the agent moved it into process isolation by itself; empty when it did not.
    std::string demoted;
    // Process isolation: the user its child runs as; empty: the agent's.
    registry::RunAs run_as;
    // Installed under a signing key revoked since (contract §8.14); empty when not. Stamped by
    // the lifecycle, whoever reports the status.
    std::string warning;
};

class PluginHostServices {
  public:
    virtual ~PluginHostServices() = default;

    // Publishes a message on an absolute MQTT topic (already resolved and validated).
    virtual bool publish(const std::string& topic, const std::string& payload, int qos,
                         bool retain) = 0;
    // A plugin's metric reading (publish_metric, ABI 1.1; name and value already validated):
    // published on `components/{cid}/telemetry/{metric}` when the runtime config's telemetry
    // switches, interval and threshold let it (telemetry/component_metrics.hpp), dropped
    // otherwise. False only when it was due but could not be queued.
    virtual bool publish_metric(const std::string& component_id, const std::string& metric,
                                double value, const std::string& unit) = 0;

    // ---- Plugin-defined commands (components/{cid}/cmd/{action}) take the agent's one command
    // path (commands/command_dispatcher.hpp) with the plugin's worker as their lane: these run
    // on that worker, around the plugin's handler. Results go to
    // components/{cid}/evt/{action}_result. The defaults record nothing (unit-test fakes).

    // The request to run, or nullopt when the agent answered it already: a malformed payload
    // (its parse error), or a request_id answered before (its first answer again: a QoS 1
    // redelivery, or a copy that arrived while the first was queued or running).
    virtual std::optional<contract::CommandRequest> admit_command(const std::string& component_id,
                                                                  const std::string& action,
                                                                  const std::string& payload);
    // The plugin's answer to an admitted request: recorded (on disk before it leaves: a plugin
    // command may have side effects), then published.
    virtual void answer_command(const std::string& component_id, const std::string& action,
                                const contract::CommandRequest& request, contract::Result result);
    // Answers `error` (a malformed payload: its parse error) without running the command: the
    // plugin is unresponsive, its queue is full, it stopped first. Not recorded: the same
    // request_id sent again once the plugin can take it runs.
    virtual void refuse_command(const std::string& component_id, const std::string& action,
                                const std::string& payload, const std::string& error);

    // The error answering a command that was queued for the plugin but never ran because the
    // plugin stopped first (a stop jumps the queue). Not recorded either: sent again, it runs.
    virtual std::string not_run_error(const std::string& component_id) {
        return "component not running: " + component_id;
    }

    // A component's subscription `subscription` (its id within the component) wants messages
    // matching `filter` (absolute, validated). The core subscribes (the session counts filters
    // shared by several subscriptions and resubscribes after a reconnect) and routes each
    // matching message to that one subscription: PluginContext::deliver_to().
    virtual void subscribe(const std::string& component_id, std::uint64_t subscription,
                           const std::string& filter, int qos) = 0;
    virtual void unsubscribe(const std::string& component_id, std::uint64_t subscription,
                             const std::string& filter) = 0;
    // The component's plugin is gone (unloaded, or abandoned stuck in a call, which never
    // unsubscribes): whatever subscriptions it left end. Fakes may ignore it.
    virtual void unsubscribe_all(const std::string& component_id) { (void)component_id; }

    // Wall-clock time for envelopes and results.
    virtual std::chrono::system_clock::time_point now() = 0;

    virtual std::string agent_id() = 0;
    // `{root}/{agent_id}`, e.g. "lucid/agents/pi-kitchen" (contract::AgentTopics::base()).
    virtual std::string base_topic() = 0;

    // The component's status changed: republish `components/{cid}/status` (and whatever
    // snapshot aggregates it).
    virtual void status_changed(const std::string& component_id, const ComponentStatus& status) = 0;

    // The component's config as a JSON object text ("{}" when none).
    virtual std::string read_config(const std::string& component_id) = 0;
    // Stores a config the plugin accepted (registry entry + `components/{cid}/cfg/state`).
    // The error says why it could not be stored (e.g. the disk's errno text).
    virtual Status persist_config(const std::string& component_id, const std::string& json) = 0;
};

}  // namespace lucid::host
