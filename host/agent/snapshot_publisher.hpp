// Publishes the agent's retained snapshots (contract §3): status, core/metadata, core/state,
// core/components, core/cfg/state — on every connect, on `refresh`, and (status) on every
// heartbeat. Plugin hosting adds its own retained snapshots (components/{cid}/status, .../cfg/
// state) with add_extra_snapshots() and the live component list with set_component_source().
//
// Each snapshot has a name, which `refresh` answers in `snapshots_updated`: the earlier agent's
// `metadata`, `state`, `components`, `cfg` for core/metadata, core/state, core/components and
// core/cfg/state; `status` for status; `components/{cid}/status` and `components/{cid}/cfg` for
// a component's two (the topic under the agent, `cfg` like the core's).
//
// Thread: all methods are safe from any thread; sources are called on the publishing thread.
// Errors: a failed publish is logged and not named; nothing is thrown.
#pragma once

#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "agent/runtime_config.hpp"
#include "contract/payloads.hpp"
#include "contract/topics.hpp"
#include "mqtt/mqtt_session.hpp"
#include "mqtt/publisher.hpp"

namespace lucid::host::agent {

struct AgentIdentity {
    std::string agent_id;
    std::string version;
    std::string hostname;
    std::string platform = "linux";
    std::string arch;
    std::string plugin_abi;
    std::string instance;  // random per process, in `status` and the Will
};

class SnapshotPublisher {
  public:
    using ComponentSource = std::function<std::vector<contract::ComponentSnapshot>()>;
    // Publishes more retained snapshots; returns the names of those published.
    using ExtraSnapshots = std::function<std::vector<std::string>()>;
    using ConnectionSource = std::function<std::optional<mqtt::ConnectionInfo>()>;

    SnapshotPublisher(mqtt::Publisher& publisher, contract::AgentTopics topics,
                      AgentIdentity identity, ConnectionSource connection,
                      const RuntimeConfig& config, ComponentSource components);

    void set_component_source(ComponentSource components);
    void add_extra_snapshots(ExtraSnapshots extra);
    // A reason of the agent itself to report `core/state` degraded (listed in
    // `degraded_reasons`); published with the next core/state.
    void add_degraded_reason(std::string reason);
    // Reasons that come and go (a trust state that cannot be read), asked at each core/state.
    using DegradedSource = std::function<std::vector<std::string>()>;
    void add_degraded_source(DegradedSource source);
    // What `status` says in `conflict` (agent/takeover_detector.hpp); nullopt: null.
    void set_conflict(std::optional<std::string> conflict);
    // `status`'s last_upgrade (contract §4.16), from the next publication on.
    void set_last_upgrade(std::optional<contract::LastUpgradeInfo> last);
    // The agent's labels in `status` and `core/metadata` (published with the next ones).
    void set_labels(contract::Labels labels);

    // Every snapshot, status first; returns the names of those published.
    std::vector<std::string> publish_all();
    bool publish_status();
    bool publish_metadata();
    bool publish_core_state();
    bool publish_components();
    bool publish_cfg_state();
    // After a component changed: core/components and core/state, unless core/components would
    // say what it said last (a status change of a component not registered yet, the same state
    // reported again): once per change, never before the change is in it. True when published.
    bool publish_component_change();

    // The Will for connection number `session`.
    mqtt::WillMessage will(std::uint64_t session) const;
    // The explicit offline status of a clean shutdown (same content as the Will).
    mqtt::MessageId publish_offline(std::uint64_t session);

    double uptime_s() const;
    const contract::AgentTopics& topics() const { return topics_; }
    const AgentIdentity& identity() const { return identity_; }

  private:
    bool publish(const std::string& topic, const std::string& payload);
    std::vector<contract::ComponentSnapshot> components() const;
    // Publishes core/components from `list` and remembers what it said; the caller holds
    // components_mutex_.
    bool publish_components_locked(const std::vector<contract::ComponentSnapshot>& list);

    mqtt::Publisher& publisher_;
    const contract::AgentTopics topics_;
    const AgentIdentity identity_;
    ConnectionSource connection_;
    const RuntimeConfig& config_;
    const std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();

    mutable std::mutex mutex_;  // guards the sources below
    ComponentSource components_;
    std::vector<ExtraSnapshots> extras_;
    std::vector<std::string> degraded_reasons_;
    std::vector<DegradedSource> degraded_sources_;
    std::optional<std::string> conflict_;
    std::optional<contract::LastUpgradeInfo> last_upgrade_;
    contract::Labels labels_;

    // Orders core/components publications as their changes happened, and remembers the list
    // the last one said.
    std::mutex components_mutex_;
    std::optional<std::vector<contract::ComponentSnapshot>> components_said_;
    contract::ComponentsPayloadCache components_payload_;
};

}  // namespace lucid::host::agent
