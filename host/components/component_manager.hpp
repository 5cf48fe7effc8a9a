// The components of this agent at runtime (contract §4, §6, §7): the registry, the loaded plugins,
// their live states, and every operation that changes them — boot, install/upgrade with
// rollback, uninstall, start/stop/restart, enable/disable, component config, drop-in files.
// It is also the PluginHostServices the plugins talk to.
//
// Ordering that makes a crash at any point recoverable (with ComponentFiles::recover at boot):
// an install places the file, then updates the registry; an uninstall updates the registry,
// then deletes the file. A component that takes the agent down is quarantined at the next boot
// (component_quarantine.cpp, crash_records.hpp): the one a fatal signal was recorded for
// (plugin/crash_record.hpp), or one during whose start the agent died
// `start_deaths_before_quarantine` times in a row.
//
// Threads: the operations run on the command lanes (fast: start/stop/...; slow: install,
// uninstall, drop-in) and are serialized by one lifecycle mutex; a long download happens before
// that mutex is taken, so it delays nobody. The PluginHostServices members run on plugin
// workers and never take the lifecycle mutex (a plugin being stopped may still call them).
// deliver() runs on the network thread and never blocks on a plugin. A PluginStallWatch thread
// of its own reports plugins stuck in a callback (and their recovery) through status_changed().
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
#include "components/crash_records.hpp"
#include "contract/command_request.hpp"
#include "contract/component_id_field.hpp"
#include "contract/payloads.hpp"
#include "contract/topics.hpp"
#include "dropin/dropin_log_memo.hpp"
#include "install/artifact_verifier.hpp"
#include "install/component_files.hpp"
#include "install/install_policy.hpp"
#include "install/install_request.hpp"
#include "lucid/registry/registry_store.hpp"
#include "mqtt/message_router.hpp"
#include "mqtt/mqtt_session.hpp"
#include "plugin/plugin_component.hpp"
#include "plugin/plugin_host_services.hpp"
#include "plugin/plugin_stall_watch.hpp"

namespace lucid::host::components {

struct ManagerSettings {
    std::filesystem::path data_dir;
    std::vector<std::filesystem::path> legacy_registries;  // registry_store.hpp
    install::InstallSettings install;
    VerifierSettings verifier;
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

    // The drop-in directory (contract §7): same pipeline, source {"type":"dropin","path":...}.
    // Where it crosses MQTT, the rules of component_channel.hpp apply.
    void dropin_ready(const std::filesystem::path& file);
    void dropin_removed(const std::filesystem::path& file);

    // `core/components` entries with live states.
    std::vector<contract::ComponentSnapshot> snapshots() const;
    // Republishes components/{cid}/status and cfg/state of every component; returns the names
    // of those published (`components/{cid}/status`, `components/{cid}/cfg`).
    std::vector<std::string> publish_component_snapshots();

    // PluginHostServices
    bool publish(const std::string& topic, const std::string& payload, int qos,
                 bool retain) override;
    std::optional<contract::CommandRequest> admit_command(const std::string& component_id,
                                                          const std::string& action,
                                                          const std::string& payload) override;
    void answer_command(const std::string& component_id, const std::string& action,
                        const contract::CommandRequest& request, contract::Result result) override;
    void refuse_command(const std::string& component_id, const std::string& action,
                        const std::string& payload, const std::string& error) override;
    void subscribe(const std::string& component_id, const std::string& filter, int qos) override;
    void unsubscribe(const std::string& component_id, const std::string& filter) override;
    std::chrono::system_clock::time_point now() override;
    std::string agent_id() override;
    std::string base_topic() override;
    void status_changed(const std::string& component_id, const ComponentStatus& status) override;
    std::string not_run_error(const std::string& component_id) override;
    std::string read_config(const std::string& component_id) override;
    std::string persist_config(const std::string& component_id, const std::string& json) override;

  private:
    // The operations themselves; the public ones above add the audit line (audit_log.hpp).
    contract::Result install_request(const contract::CommandRequest& request,
                                     const ProgressFn& progress);
    contract::Result control_request(const std::string& action,
                                     const contract::CommandRequest& request);
    contract::Result configure_request(const std::string& component_id,
                                       const contract::CommandRequest& request);
    // The registered version of a component, empty when none.
    std::string installed_version(const std::string& component_id) const;

    struct Loaded {
        std::unique_ptr<PluginComponent> plugin;
    };
    struct InstallPlan;

    // The command's `component_id`, validated; on failure `result` carries the contract error.
    // Either way the result echoes it (echo_component_id).
    static std::optional<std::string> read_component_id(const rapidjson::Value& payload,
                                                        contract::Result& result);
    static void echo_component_id(const contract::ComponentIdField& field,
                                  contract::Result& result);

    // Lifecycle helpers; the caller holds lifecycle_mutex_.
    std::string load_and_start(const registry::Entry& entry);  // error, empty on success
    // The same for a library already mapped (an upgrade maps it before stopping the old one).
    std::string start_loaded(const registry::Entry& entry, PluginComponent::LoadResult loaded);
    bool stop_and_unload(const std::string& component_id);  // restart_required
    bool healthy_for(const std::string& component_id, std::chrono::milliseconds window);
    contract::Result install_verified(const std::string& request_id,
                                      const std::string& component_id,
                                      const std::string& source_json,
                                      const std::optional<std::string>& config_json,
                                      StagedArtifact artifact);
    // uninstall() for either channel: only an MQTT uninstall moves a drop-in file aside.
    contract::Result uninstall_from(Channel channel, const contract::CommandRequest& request);
    // Moves the drop-in file of a component MQTT took over aside (component_channel.hpp).
    void set_dropin_file_aside(const std::filesystem::path& file, const std::string& suffix,
                               const std::string& component_id);
    void save_registry(const registry::Registry& registry);
    void set_status(const std::string& component_id, ComponentStatus status);
    void forget_component(const std::string& component_id);
    bool publish_component_status(const std::string& component_id);
    bool publish_component_config(const std::string& component_id);
    registry::Registry registry_copy() const;
    // ---- crash quarantine (component_quarantine.cpp); the caller holds lifecycle_mutex_ ----
    // Records the start() about to run (with the deaths counted for that version), or clears it.
    void mark_starting(const registry::Entry& entry);
    void clear_starting(const std::string& component_id);
    // Records an install in progress until the returned guard goes.
    struct InstallingGuard {
        std::filesystem::path file;
        ~InstallingGuard();
    };
    std::unique_ptr<InstallingGuard> mark_installing(const std::string& request_id,
                                                     const registry::Entry& entry);
    std::optional<Quarantine> read_quarantine(const std::string& component_id) const;
    // The error when `entry`'s build is quarantined; nullopt when it may run.
    std::optional<std::string> quarantine_error(const registry::Entry& entry) const;
    void set_quarantine(const std::string& component_id, const Quarantine& quarantine);
    void lift_quarantine(const std::string& component_id);
    // What the last death of the agent leaves to do at boot: quarantines written, registry
    // entries disabled (`changed`), the rest in the returned plan, done by finish_blame().
    struct Blame {
        struct Answer {
            std::string component_id;
            PendingInstall pending;
            std::string error;
            bool rolled_back = false;
            std::string from;  // the version that runs again when rolled back
        };
        std::vector<std::string> suspects;                    // started first, one at a time
        std::vector<Answer> answers;                          // installs the death interrupted
        std::map<std::string, ComponentStatus> unregistered;  // failed, not in the registry
        std::vector<std::filesystem::path> consumed;          // records to remove
    };
    Blame blame_deaths(registry::Registry& registry, bool& changed,
                       std::vector<std::string>& problems);
    void finish_blame(const Blame& blame);
    // Whether a drop-in file is the unchanged build of a quarantine; logs why when it is. A
    // changed one lifts the quarantine (and starts the component again when it was its own).
    bool dropin_blocked(const std::filesystem::path& file, const dropin::FileVersion& id,
                        const std::string& component_id, const std::string& sha256);
    // A removed drop-in file takes the quarantine that named it along.
    void dropin_quarantine_removed(const std::filesystem::path& file);
    void deliver(const mqtt::MqttMessage& message);
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

    const ManagerSettings settings_;
    Mqtt mqtt_;
    // `{base}/components/`, matched against every message and plugin publish: built once.
    const std::string components_prefix_;
    ChangedFn changed_;
    registry::RegistryStore store_;
    install::ComponentFiles files_;

    std::mutex lifecycle_mutex_;  // serializes operations; never taken by plugin callbacks
    std::map<std::string, Loaded> loaded_;  // guarded by lifecycle_mutex_ (and state_mutex_)

    mutable std::mutex state_mutex_;  // short sections only; never held while calling a plugin
    registry::Registry registry_;     // the last saved registry
    std::map<std::string, ComponentStatus> statuses_;
    std::condition_variable status_cv_;
    std::map<std::string, PluginContext*> contexts_;       // for deliver(); valid while in the map
    std::map<std::string, std::string> starting_configs_;  // config of a start in progress
    std::map<std::pair<std::string, std::string>, int> subscriptions_;  // (cid, filter) → count
    dropin::DropinLogMemo dropin_log_;  // a drop-in refusal is logged once per file version
    // Deaths counted at boot for a component's start, carried into its next start marker:
    // cid → (version, deaths). Guarded by lifecycle_mutex_.
    std::map<std::string, std::pair<std::string, int>> start_deaths_;
    bool stopping_all_ = false;  // stop_all() began: the agent is shutting down

    // Last: its thread ends before the members it reaches through the contexts go away.
    PluginStallWatch stall_watch_;
};

}  // namespace lucid::host::components
