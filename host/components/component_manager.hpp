// The components of this agent on the wire (contract §4, §6, §7): the command layer over the
// component lifecycle (component_lifecycle.hpp). It parses component commands, maps the
// lifecycle's outcomes to their results and writes the audit line; it wires the lifecycle's
// ports to the agent (DiskComponentStore, InProcessRuntime, MqttStatusSink); it is the
// PluginHostServices the plugins talk to, fans incoming messages out to them and answers commands
// for components that do not run; and it feeds the drop-in directory's files to the lifecycle.
//
// Threads: install/uninstall/control/configure on the command lanes, dropin_* on the drop-in
// lane (the lifecycle serializes them; a long download happens before, so it delays nobody).
// The PluginHostServices members run on plugin workers; the routes of plugin subscriptions,
// clear_if_stale() and on_plugin_command() on the network thread and never block on a plugin.
// Errors: operations return contract::Result; nothing throws out of them.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "commands/command_dispatcher.hpp"
#include "components/component_channel.hpp"
#include "components/component_lifecycle.hpp"
#include "components/disk_component_store.hpp"
#include "components/in_process_runtime.hpp"
#include "components/mqtt_status_sink.hpp"
#include "contract/command_request.hpp"
#include "contract/component_id_field.hpp"
#include "contract/payloads.hpp"
#include "contract/topics.hpp"
#include "dropin/dropin_log_memo.hpp"
#include "install/artifact_verifier.hpp"
#include "install/component_files.hpp"
#include "install/install_policy.hpp"
#include "install/install_request.hpp"
#include "isolation/isolating_runtime.hpp"
#include "isolation/process_runtime.hpp"
#include "mqtt/message_router.hpp"
#include "mqtt/mqtt_session.hpp"
#include "plugin/plugin_context.hpp"
#include "plugin/plugin_host_services.hpp"

namespace lucid::host::components {

struct ManagerSettings {
    std::filesystem::path data_dir;
    std::vector<std::filesystem::path> legacy_registries;  // registry_store.hpp
    install::InstallSettings install;
    install::VerifierSettings verifier;
    // Trusted keys, signature policy and allowed prefixes: SIGHUP replaces them at runtime.
    std::shared_ptr<install::LiveInstallPolicy> policy;
    // How long a freshly started upgrade must stay healthy before the old version is let go.
    std::chrono::milliseconds health_window{300};
    std::chrono::milliseconds plugin_call_timeout{10000};
    // A plugin callback running this long makes its component failed/unresponsive until it
    // returns (plugin_stall_watch.hpp).
    std::chrono::milliseconds plugin_stall{10000};
    // Deaths of the agent in a row while one component's start runs, none of them blamed on a
    // plugin by a fatal signal, after which that component is quarantined.
    int start_deaths_before_quarantine = 3;
    // Each plugin's queue of commands and messages (plugin_worker.hpp).
    PluginWorker::Limits plugin_queue{1000, 16u * 1024 * 1024};
    // Where components whose entry names no isolation run (LUCID_DEFAULT_ISOLATION), and how
    // children are run and supervised (isolation/process_runtime.hpp; runner and
    // component_dirs are filled from the data directory when empty).
    Isolation default_isolation = Isolation::in_process;
    isolation::ProcessRuntimeSettings process;
    // Where a plugin's publish_metric readings go (agent: telemetry/component_metrics.hpp,
    // which decides and publishes); unset, they are dropped (no telemetry wired).
    std::function<bool(const std::string& component_id, const std::string& metric, double value,
                       const std::string& unit)>
        metrics;
    // A component's own log level (agent/component_log_levels.hpp), shown in its status, and
    // what to drop of it when the component is gone (uninstalled); unset: nothing.
    MqttStatusSink::AgentSide agent_side;

    // A copy with the policy in force now folded into `install` and `verifier`: one snapshot
    // per install.
    ManagerSettings with_current_policy() const;
};

class ComponentManager final : public PluginHostServices {
  public:
    // The MQTT side: where plugins' subscriptions go and how everything is published.
    struct Mqtt {
        mqtt::MqttSession& session;
        mqtt::MessageRouter& router;
        contract::AgentTopics topics;
        // Plugin-defined commands run on the plugins' workers through the dispatcher's admit()
        // and finish(): the one path (parse, de-duplication, record, result) of every command.
        commands::CommandDispatcher& commands;
    };
    // Called after every change that alters `core/components` / `core/state`.
    using ChangedFn = std::function<void()>;

    ComponentManager(ManagerSettings settings, Mqtt mqtt, ChangedFn changed);
    ~ComponentManager() override;  // stop_all()

    // Recovers files and registry, then loads and starts every enabled component.
    // Returns the problems found (for the log).
    std::vector<std::string> boot();
    // Stops and unloads every component (clean shutdown).
    void stop_all();

    using ProgressFn =
        std::function<void(const std::string& phase, std::uint64_t bytes, std::uint64_t total)>;
    contract::Result install(const contract::CommandRequest& request, const ProgressFn& progress);
    contract::Result uninstall(const contract::CommandRequest& request);
    // start | stop | restart | enable | disable
    contract::Result control(const std::string& action, const contract::CommandRequest& request);
    // components/{cid}/cfg/set: {"request_id", "set": {...}} merged into the current config,
    // validated by the plugin, persisted, republished.
    contract::Result configure(const std::string& component_id,
                               const contract::CommandRequest& request);
    // core/cmd/components/configure: {"request_id", "component_id", "isolation"?, "limits"?,
    // "run_as"?}:
    // where it runs, persisted; a running component is restarted alone to apply it.
    contract::Result configure_isolation(const contract::CommandRequest& request);

    // core/cmd/keys/revoke (component_revocation.cpp, contract §8.14): {"request_id",
    // "revocation": "<lucid-revoke-1 text>"}: verified with the trusted keys, kept in the trust
    // state, applied to the components installed under a revoked key.
    contract::Result revoke_keys(const contract::CommandRequest& request);
    // The keys revoked now (the keys directory's revoked/ and the trust state's lists) handed to
    // the lifecycle; apply: and brought to the running components (after a reload).
    void refresh_revocations(bool apply);
    // Why core/state is degraded on the components' side now: a trust state that cannot be read
    // (every install refused, whether a key is revoked unknown). Read at each core/state.
    std::vector<std::string> degraded_reasons() const;

    // The drop-in directory (contract §7): same pipeline, source {"type":"dropin","path":...}.
    // Where it crosses MQTT, the rules of component_channel.hpp apply.
    void dropin_ready(const std::filesystem::path& file);
    void dropin_removed(const std::filesystem::path& file);
    // A file in the directory whose name is no artifact's (`reason` names it).
    void dropin_rejected(const std::filesystem::path& file, const std::string& reason);
    // After the start-up scan's files: one line for the refusals not logged again.
    void dropin_scan_done();

    // ---- the desired state (component_desired.cpp; fleet/desired_state.hpp) ----
    // The same pipeline as the commands, owned by the desired state's channel and audited with
    // source `desired revision N`. Errors are the commands' error strings.
    struct DesiredInstall {
        std::uint64_t revision = 0;
        std::string component_id;
        std::string version;
        std::string source_json;
        std::optional<std::string> config_json;
        std::optional<std::string> isolation;
        std::optional<registry::Limits> limits;
        std::optional<registry::RunAs> run_as;
        // Gives up a download or broker fetch under way (a newer document, the agent stopping).
        std::shared_ptr<std::atomic<bool>> cancelled;
        bool allow_downgrade = false;
        std::string rollout;      // the document's: a rollout's raise is held (trust_state.hpp)
        std::string rollback_of;  // the document's: the abort of that rollout
        std::optional<std::string> rollback_permit;  // the component's (§8.13)
    };
    // The install command this would be is valid (before anything changes).
    Status check_desired_install(const DesiredInstall& install) const;
    Status desired_install(const DesiredInstall& install);
    Status desired_uninstall(std::uint64_t revision, const std::string& component_id);
    Status desired_isolation(std::uint64_t revision, const std::string& component_id,
                             const std::optional<std::string>& isolation,
                             const std::optional<registry::Limits>& limits,
                             const std::optional<registry::RunAs>& run_as);
    // Where the component runs now: its entry's isolation, else the agent's default.
    std::string isolation_of(const registry::Entry& entry) const {
        return to_string(lifecycle_.isolation_of(entry));
    }
    // The boot flag, and the component started (enabled) or stopped (not) to match it.
    Status desired_enable(std::uint64_t revision, const std::string& component_id, bool enabled);
    Status desired_config(std::uint64_t revision, const std::string& component_id,
                          const std::string& config_json);
    registry::Registry registry() const { return lifecycle_.registry(); }
    bool running(const std::string& component_id) const { return runtime_.running(component_id); }
    // Installed under a key revoked now (contract §8.14).
    bool signer_revoked(const registry::Entry& entry) const {
        return lifecycle_.revoked_signer_locked(entry).has_value();
    }

    // `core/components` entries with live states.
    std::vector<contract::ComponentSnapshot> snapshots() const { return lifecycle_.snapshots(); }
    // Republishes components/{cid}/status and cfg/state of every component; returns the names
    // of those published (`components/{cid}/status`, `components/{cid}/cfg`).
    std::vector<std::string> publish_component_snapshots();
    // Publishes one component's status again (its log level changed); nothing when unknown.
    void republish_status(const std::string& component_id);

    // PluginHostServices
    bool publish(const std::string& topic, const std::string& payload, int qos,
                 bool retain) override;
    bool publish_metric(const std::string& component_id, const std::string& metric, double value,
                        const std::string& unit) override;
    std::optional<contract::CommandRequest> admit_command(const std::string& component_id,
                                                          const std::string& action,
                                                          const std::string& payload) override;
    void answer_command(const std::string& component_id, const std::string& action,
                        const contract::CommandRequest& request, contract::Result result) override;
    void refuse_command(const std::string& component_id, const std::string& action,
                        const std::string& payload, const std::string& error) override;
    void subscribe(const std::string& component_id, std::uint64_t subscription,
                   const std::string& filter, int qos) override;
    void unsubscribe(const std::string& component_id, std::uint64_t subscription,
                     const std::string& filter) override;
    void unsubscribe_all(const std::string& component_id) override;
    std::chrono::system_clock::time_point now() override;
    std::string agent_id() override;
    std::string base_topic() override;
    void status_changed(const std::string& component_id, const ComponentStatus& status) override;
    std::string not_run_error(const std::string& component_id) override;
    std::string read_config(const std::string& component_id) override;
    Status persist_config(const std::string& component_id, const std::string& json) override;

  private:
    // The operations themselves; the public ones above add the audit line (audit_log.hpp).
    // `desired_revision`: an install of the desired state, stored as its channel's.
    // `cancelled`: replaces the agent's download cancel flag for this install.
    // `fleet`: the rollout that asks, or whose abort this is (its allow_downgrade is the
    // payload's).
    contract::Result install_request(const contract::CommandRequest& request,
                                     const ProgressFn& progress,
                                     const std::optional<std::uint64_t>& desired_revision = {},
                                     std::shared_ptr<std::atomic<bool>> cancelled = nullptr,
                                     install::FloorContext fleet = {});
    contract::Result control_request(const std::string& action,
                                     const contract::CommandRequest& request);
    contract::Result configure_request(const std::string& component_id,
                                       const contract::CommandRequest& request);
    contract::Result configure_isolation_request(const contract::CommandRequest& request);
    // The lifecycle's install of a verified artifact, as an install result.
    contract::Result install_verified(const std::string& request_id,
                                      const install::InstallRequest& request,
                                      const install::StagedArtifact& artifact,
                                      const install::FloorContext& floor);
    // An interrupted install (boot) answered like any install result.
    void answer_interrupted(const InterruptedInstall& interrupted);

    // The command's `component_id`, validated; on failure `result` carries the contract error.
    // Either way the result echoes it (echo_component_id).
    static std::optional<std::string> read_component_id(const rapidjson::Value& payload,
                                                        contract::Result& result);
    static void echo_component_id(const contract::ComponentIdField& field,
                                  contract::Result& result);

    // A retained components/{cid}/status or cfg/state of a component that is neither registered
    // nor being installed is what an agent killed between registry and broker updates left (an
    // uninstall saved, a new component started but not registered): it is cleared.
    void clear_if_stale(const mqtt::MqttMessage& message);
    // `components/{cid}/cmd/{action}` (network thread): handed to the plugin, or answered
    // `component not running: <cid>`, `component not found: <cid>`, or, while the agent stops,
    // the dispatcher's kShuttingDown. A refusal is not recorded: sent again once the component
    // runs, it runs.
    void on_plugin_command(const mqtt::MqttMessage& message);
    commands::CommandSpec plugin_command_spec(const std::string& component_id,
                                              const std::string& action) const;

    static isolation::ProcessRuntimeSettings process_settings(const ManagerSettings& settings);

    const ManagerSettings settings_;
    int policy_listener_ = 0;  // refresh_revocations() after a reload; forgotten at destruction
    std::mutex revocations_mutex_;
    install::RevokedKeys known_revocations_;  // the last revocations read whole
    Mqtt mqtt_;

    DiskComponentStore store_;
    MqttStatusSink sink_;
    // Before the runtime it refers to: the runtime goes first, and a plugin it still stops
    // reports to a lifecycle that is still there.
    ComponentLifecycle lifecycle_;
    InProcessRuntime in_process_;
    isolation::ProcessRuntime process_;
    isolation::IsolatingRuntime runtime_;  // one of the two per component

    // The router's route of each plugin subscription: (cid, subscription id) → route.
    struct Route {
        mqtt::MessageRouter::RouteId id = 0;
        std::string filter;
    };
    void end_routes(const std::vector<Route>& routes);  // router and session
    std::mutex routes_mutex_;
    std::map<std::pair<std::string, std::uint64_t>, Route> routes_;
    // A drop-in file refused for what it is (its name, its bytes, its signature) is logged once
    // per version of the file, also across restarts ({data}/dropin_log.json). What depends on
    // the agent's state (a file that yields to what runs, a quarantine, an install that ran and
    // failed and is tried again at the next start) once per version and start.
    dropin::DropinLogMemo dropin_log_;
    dropin::DropinLogMemo dropin_log_this_start_;
};

}  // namespace lucid::host::components
