// The agent core: wires the MQTT session, the message router, the command dispatcher, the
// snapshots, the heartbeat and the runtime config together, and runs until SIGTERM/SIGINT or a
// restart request.
//
// Plugin hosting plugs in between construction and run() through the accessors below (see the
// comment on each): it routes its topic filters with router() + session().subscribe(), publishes
// through session() (a mqtt::Publisher), adds its retained snapshots to snapshots(), and its
// commands to dispatcher().
//
// The agent holds its data directory for its whole life (registry/data_dir_lock.hpp). On a
// read-only data directory it starts all the same: it serves what is there, every change is
// refused with the errno text where it fails, and `core/state` is degraded with the reason.
//
// Thread: construct and run() on the main thread, after ShutdownSignal was created (so every
// thread the agent starts has SIGTERM/SIGINT blocked). Errors: the constructor throws
// registry::DataDirInUse when another process holds the data directory, and
// std::exception on a configuration the MQTT client refuses or a data dir it cannot create;
// run() does not throw.
#pragma once

#include <memory>

#include "agent/component_log_levels.hpp"
#include "agent/core_commands.hpp"
#include "agent/heartbeat.hpp"
#include "agent/log_stream.hpp"
#include "agent/runtime_config.hpp"
#include "agent/shutdown_signal.hpp"
#include "agent/snapshot_publisher.hpp"
#include "agent/takeover_detector.hpp"
#include "commands/command_dispatcher.hpp"
#include "commands/dedup_store.hpp"
#include "commands/restart_policy.hpp"
#include "commands/work_lane.hpp"
#include "config/agent_config.hpp"
#include "contract/topics.hpp"
#include "lucid/registry/data_dir_lock.hpp"
#include "mqtt/message_router.hpp"
#include "mqtt/mqtt_session.hpp"
#include "mqtt/session_counter.hpp"
#include "telemetry/component_metrics.hpp"
#include "telemetry/telemetry_stream.hpp"

namespace lucid::host::agent {

inline constexpr std::size_t kCommandQueueCapacity = 256;

class Agent final : private CoreCommandTarget {
  public:
    Agent(config::AgentConfig config, ShutdownSignal& shutdown);
    ~Agent() override;

    // Connects (and keeps reconnecting) and serves until shutdown; returns the exit code:
    // 0 after SIGTERM/SIGINT, commands::kRestartExitCode after an accepted `restart`.
    int run();

    // Incoming messages by topic filter. Handlers run on the network thread: enqueue only.
    mqtt::MessageRouter& router() { return router_; }
    // Subscriptions (kept across reconnects) and publishing from any thread.
    mqtt::MqttSession& session() { return *session_; }
    // Retained snapshots: set_component_source() for live states, add_extra_snapshots() for
    // components/{cid}/status and cfg/state (republished on connect and refresh).
    SnapshotPublisher& snapshots() { return *snapshots_; }
    // Commands with parse/dedup/result handling, on the fast or slow lane.
    commands::CommandDispatcher& dispatcher() { return *dispatcher_; }
    const contract::AgentTopics& topics() const { return topics_; }
    // Runs first in the clean shutdown, while the session is still connected (e.g. stop and
    // unload plugins, publish their final status). Register before run(); called in order.
    void on_shutdown(std::function<void()> step) { shutdown_steps_.push_back(std::move(step)); }
    // Runs first when the agent stops, before the command lanes are drained: quick things only
    // (tell the service manager, interrupt long work such as downloads).
    void on_stop_requested(std::function<void()> step) {
        stop_requested_steps_.push_back(std::move(step));
    }
    // Runs on the connect lane after each (re)connect, once the snapshots (status first) were
    // published: the agent is online. Register before run(); called in order.
    void on_online(std::function<void()> step) { online_steps_.push_back(std::move(step)); }
    // The request log (contract §3.6): an answer published outside a command handler (the
    // final upgrade_result, agent/self_upgrade.hpp) is recorded here, so a copy gets it too.
    commands::DedupStore& request_log() { return dedup_; }
    const config::AgentConfig& config() const { return config_; }
    // The components' own log levels (components/{cid}/cfg/logging/set, contract §4.15): the
    // ComponentHost routes the command, which needs to know the components.
    ComponentLogLevels& component_log_levels() { return component_log_levels_; }
    // The readings plugins publish with publish_metric (contract §4.14), governed by the
    // runtime config's telemetry; any thread.
    telemetry::ComponentMetrics& component_metrics() { return *component_metrics_; }

  private:
    // CoreCommandTarget
    std::vector<std::string> republish_snapshots() override;
    CoreConfig current_config() const override;
    void apply_config(const CoreConfig& config, const commands::DedupEntry& answer) override;
    void request_exit(int exit_code) override;

    void register_commands();
    void shutdown_cleanly();
    // Another process with this agent_id (agent/takeover_detector.hpp): watch our own status.
    void watch_own_status();
    void on_own_status(const mqtt::MqttMessage& message);  // network thread
    // Ends a conflict once a connection lasted long enough that nobody can be taking it.
    void clear_quiet_conflict();
    // A cfg/set of `labels` wins over LUCID_LABELS from then on (contract §4.10).
    contract::Labels effective_labels(const CoreConfig& config) const;
    void configure_log_stream(const CoreConfig& config);

    const config::AgentConfig config_;
    ShutdownSignal& shutdown_;
    const contract::AgentTopics topics_;
    // Before anything reads or writes the data directory.
    registry::DataDirLock data_lock_;
    mqtt::SessionCounter counter_;
    mqtt::MessageRouter router_;
    // Before runtime_config_: loading it replays the journal, which may carry a newer
    // core_config.json than the file (written durably then, before runtime_config_ reads it).
    commands::DedupStore dedup_;
    RuntimeConfig runtime_config_;
    std::unique_ptr<mqtt::MqttSession> session_;
    std::unique_ptr<SnapshotPublisher> snapshots_;
    commands::RestartRecord restart_record_;
    const std::string instance_ = new_instance_id();
    std::mutex takeover_mutex_;  // guards takeover_ (network and heartbeat threads)
    TakeoverDetector takeover_{instance_};
    std::unique_ptr<commands::CommandDispatcher> dispatcher_;
    std::unique_ptr<Heartbeat> heartbeat_;
    // The device's metrics on telemetry/<metric> (contract §4.14), as the runtime config says.
    std::unique_ptr<telemetry::TelemetryStream> telemetry_;
    // The log on `logs` (contract §4.15), as the runtime config and temporary streams say.
    ComponentLogLevels component_log_levels_;
    std::unique_ptr<LogStream> log_stream_;
    // The components' metrics on components/{cid}/telemetry/<metric>, by the same config.
    std::unique_ptr<telemetry::ComponentMetrics> component_metrics_;
    // Snapshots after a connect are published from here, not from the network thread.
    commands::WorkLane connect_lane_{"connect", 4};
    std::vector<std::function<void()>> stop_requested_steps_;
    std::vector<std::function<void()>> shutdown_steps_;
    std::vector<std::function<void()>> online_steps_;
};

}  // namespace lucid::host::agent
