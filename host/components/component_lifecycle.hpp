// The component lifecycle (contract §4, §6, §7): every transition of a component — boot, install,
// upgrade with rollback, uninstall, start/stop/restart, enable/disable, configure, a drop-in
// file's quarantine — in one place, over three ports (lifecycle_ports.hpp). It returns domain
// outcomes; the command layer (component_manager.hpp) maps them to the wire, the drop-in
// directory (and later the fleet's desired state) calls it directly.
//
//   ComponentLifecycle lifecycle(settings, store, runtime, sink);
//   lifecycle.boot(answer_interrupted_install);
//   Outcome o = lifecycle.install(order);      // o.rolled_back, o.restart_required, o.error
//   lifecycle.report_status(cid, status);      // from the runtime: a plugin's own state
//
// Ordering that makes a crash at any point recoverable (with the store's recovery at boot): an
// install places the file, then updates the registry; an uninstall updates the registry, then
// deletes the file. A component that takes the agent down is quarantined at the next boot: the
// one a fatal signal was recorded for, or one during whose start the agent died
// `start_deaths_before_quarantine` times in a row (lifecycle_quarantine.cpp).
//
// Thread: operations are serialized by one lifecycle mutex (callers: the command lanes, the
// drop-in lane). report_status, config_of, persist_config and the queries never take it: plugin
// workers call them, also while an operation waits on that plugin.
// Errors: Outcome / Expected; nothing throws.
#pragma once

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <rapidjson/document.h>

#include "components/component_channel.hpp"
#include "components/lifecycle_ports.hpp"
#include "contract/payloads.hpp"
#include "install/trust_state.hpp"
#include "lucid/registry/run_as_allowed.hpp"

namespace lucid::host::components {

struct LifecycleSettings {
    // How long a freshly started upgrade must stay healthy before the old version is let go.
    std::chrono::milliseconds health_window{300};
    // Deaths of the agent in a row while one component's start runs, none of them blamed on a
    // plugin by a fatal signal, after which that component is quarantined.
    int start_deaths_before_quarantine = 3;
    // Where a component whose entry names no isolation runs (LUCID_DEFAULT_ISOLATION).
    Isolation default_isolation = Isolation::in_process;
    // LUCID_RUN_AS_ALLOWED: who an install or configure may make a component's child run as.
    registry::RunAsAllowed run_as_allowed{};
    // Where the trust state (the floors, install/trust_state.hpp) lives: the data directory.
    // Empty: no floors (unit tests with fake stores).
    std::filesystem::path trust_dir;
    // How many components the boot starts at once (the agent: one per core). The suspects of a
    // death nobody could be blamed for always start first, alone.
    std::size_t boot_parallelism = 1;
};

// What an operation did.
struct Outcome {
    std::optional<Error> error;     // why it failed; none when it succeeded
    bool noop = false;              // nothing to do: it was so already
    bool rolled_back = false;       // an upgrade failed and the previous version is back
    bool restart_required = false;  // a library stayed mapped: an agent restart frees it
    std::string dist_name;          // the component's, when known
    std::string version;            // the version concerned, when known

    bool ok() const { return !error; }
    static Outcome failed(Errc code, std::string message) {
        Outcome o;
        o.error = Error{code, std::move(message)};
        return o;
    }
};

// An artifact staged and verified (install/artifact_verifier.hpp), kept by the caller until
// install() returns.
struct StagedFile {
    std::filesystem::path file;
    std::string dist_name;  // normalized
    std::string version;
    std::string sha256;
    std::string signed_by{};    // the trusted key that vouched for it; empty: unsigned/unchecked
    std::string signer_file{};  // its file in the trusted keys directory
};

struct InstallOrder {
    std::string request_id;  // answered after a crash it causes; empty for a drop-in file
    std::string component_id;
    std::string source_json;  // stored as the entry's source; {"type":"dropin",...} for drop-in
    std::optional<std::string> config_json;  // none: the installed one's (or "{}")
    StagedFile artifact;
    std::optional<Isolation> isolation;      // none: the installed one's (or the default)
    std::optional<registry::Limits> limits;  // none: the installed one's (or none)
    std::optional<registry::RunAs> run_as;   // none: the installed one's (or the agent's user)
    // allow_downgrade, and the rollout that asks (install/trust_state.hpp): the floor check.
    install::FloorContext floor;
};

// An install a death of the agent interrupted, answered at the next boot.
struct InterruptedInstall {
    std::string component_id;
    PendingInstall pending;
    std::string error;
    bool rolled_back = false;
    std::string from;  // the version that runs again when rolled back
    // It crashed the agent in-process and was moved into process isolation: the install is
    // answered ok:true, isolation "process", demoted:true (error then says why).
    bool demoted = false;
};

// A component as the snapshots show it.
struct ComponentView {
    std::string component_id;
    ComponentStatus status;
    std::optional<std::string> config_json;  // registered components only
};

class ComponentLifecycle {
  public:
    ComponentLifecycle(LifecycleSettings settings, ComponentStore& store, PluginRuntime& runtime,
                       StatusSink& sink);
    ComponentLifecycle(const ComponentLifecycle&) = delete;
    ComponentLifecycle& operator=(const ComponentLifecycle&) = delete;

    // Recovers files and registry, settles the last death of the agent (answering the installs
    // it interrupted through `answer` before anything starts), then starts every enabled
    // component. Returns the problems found (for the log).
    using AnswerFn = std::function<void(const InterruptedInstall&)>;
    std::vector<std::string> boot(const AnswerFn& answer);
    // Stops every component (shutdown); from then on not_run says so.
    void stop_all();

    // ---- operations ----
    // What the registry decides about an install before anything is downloaded: noop (this
    // build runs), or a refusal (another build of a kept version, a dist owned by another
    // component); nullopt: go on.
    // A version below the dist's floor is refused here already (without allow_downgrade).
    std::optional<Outcome> decide_install(const std::string& component_id, const std::string& dist,
                                          const std::string& version, const std::string& sha256,
                                          const install::FloorContext& floor = {});
    Outcome install(const InstallOrder& order);
    // `dist_hint`: the command's dist_name, needed only when the registry lacks one.
    Outcome uninstall(const std::string& component_id, Channel channel,
                      const std::optional<std::string>& dist_hint);
    Outcome start(const std::string& component_id);
    Outcome stop(const std::string& component_id);
    Outcome restart(const std::string& component_id);
    Outcome set_enabled(const std::string& component_id, bool enabled);
    // Merges `set` (an object) into the stored config and proposes the whole to the plugin.
    Outcome configure(const std::string& component_id, const rapidjson::Value& set);
    // Sets where a component runs and its limits (core/cmd/components/configure), persisted in its
    // entry; a running component is restarted alone to apply them. noop when nothing changes.
    // A run_as is checked here (run_as_problem) as well as at each spawn.
    Outcome set_isolation(const std::string& component_id, std::optional<Isolation> isolation,
                          std::optional<registry::Limits> limits,
                          std::optional<registry::RunAs> run_as = std::nullopt);
    // ---- revoked signing keys (lifecycle_revocation.cpp, contract §8.14) ----
    // The keys revoked now, and whether a component installed under one is kept from running
    // (`fail`: LUCID_SIGNATURE_POLICY=required; it is `failed` with revoked_error()) or runs
    // with a `warning` in its status. Set before boot(); apply_revocations() brings running
    // components in line after a change (a signed list taken, a reload). Returns the ids of
    // the components concerned.
    // `unknown`: why the signed lists cannot be read now (the trust state); a component signed
    // by a key not in `revoked` is then treated as revoked too (reported, or kept out).
    void set_revocations(install::RevokedKeys revoked, bool fail, std::string unknown = {});
    std::vector<std::string> apply_revocations();

    // A component the runtime gave up restarting (crashed too often in process isolation): kept
    // from running, like a boot quarantine, until enabled or re-installed.
    void quarantine(const std::string& component_id, const std::string& error);
    // Makes `config_json` (an object) the whole config: proposed to the plugin when it runs,
    // else stored as it is (its next start validates it). The desired state's `config`.
    Outcome set_config(const std::string& component_id, const std::string& config_json);

    // ---- the drop-in directory ----
    // Why a drop-in file of `version` leaves the installed component of `dist` alone, or nullopt.
    std::optional<std::string> dropin_yields(const std::string& dist, const std::string& version,
                                             const std::filesystem::path& file) const;
    // Why the unchanged build of a quarantine is not loaded (nullopt: load it). A changed file
    // lifts the quarantine (and starts the component again when the build was its own).
    std::optional<std::string> dropin_blocked(const std::filesystem::path& file,
                                              const dropin::FileVersion& version,
                                              const std::string& component_id,
                                              const std::string& sha256);
    // A removed drop-in file takes the quarantine that named it along.
    void dropin_removed(const std::filesystem::path& file);

    // ---- from the runtime (plugin workers) ----
    void report_status(const std::string& component_id, const ComponentStatus& status);
    // The config a plugin reads: the one it is being started with, else the registered one.
    std::string config_of(const std::string& component_id) const;
    Status persist_config(const std::string& component_id, const std::string& config_json);

    // ---- queries (any thread) ----
    // revoked_signer() of `entry` under the state lock: its key is revoked now (or unknown).
    std::optional<std::string> revoked_signer_locked(const registry::Entry& entry) const;
    registry::Registry registry() const;
    std::string installed_version(const std::string& component_id) const;
    std::vector<contract::ComponentSnapshot> snapshots() const;
    std::vector<ComponentView> views() const;
    // Runs `publish` with the views of now, in order with every status change's publication:
    // a snapshot pass (on connect, refresh) can never send a status older than one a change
    // sent meanwhile, which the broker would then keep as the retained one.
    void publish_views_in_order(
        const std::function<void(const std::vector<ComponentView>&)>& publish);
    // Why a command for `component_id` cannot run: stopping, not running, not found.
    std::string not_run_error(const std::string& component_id) const;
    // Runs `fn` when the component is neither registered nor shown, holding the state lock so
    // that a status set meanwhile is told after what `fn` does.
    void if_unknown(const std::string& component_id, const std::function<void()>& fn) const;

    // Notes where `entry` runs (and why, when demoted), for the statuses set from now on.
    void remember_isolation(const registry::Entry& entry);
    // Where the entry's plugin runs: its own isolation, else the agent's default.
    Isolation isolation_of(const registry::Entry& entry) const;
    RunOptions run_options(const registry::Entry& entry) const;
    // Why `entry` may not run as its run_as (nullopt: it may, or it names none): it must run in
    // process isolation, and its user and groups be in LUCID_RUN_AS_ALLOWED.
    std::optional<std::string> run_as_problem(const registry::Entry& entry) const;

  private:
    std::optional<registry::Entry> registered(const std::string& component_id) const;
    static Outcome not_found(const std::string& component_id);
    bool shown(const std::string& component_id) const;  // has a status
    // The caller holds lifecycle_mutex_ for all of these.
    // At boot: sets the status of an entry that is not to start (unsupported, quarantined,
    // revoked, disabled) and returns false; true: start it.
    bool boot_decision(const registry::Entry& entry);
    // Also from the boot's parallel starts, one call per component at a time.
    Status load_and_start(const registry::Entry& entry);
    Status start_mapped(const registry::Entry& entry, PluginRuntime::Mapped mapped);
    bool stop_plugin(const std::string& component_id);  // restart_required
    bool healthy_for(const std::string& component_id, std::chrono::milliseconds window);
    Status save(const registry::Registry& registry);
    void set_status(const std::string& component_id, ComponentStatus status);
    void forget(const std::string& component_id);
    void set_aside(const std::filesystem::path& file, const std::string& suffix,
                   const std::string& component_id);
    Outcome start_locked(const registry::Entry& entry);
    // Undoes a failed install: the new plugin and files gone, the previous version back.
    void undo_install(const InstallOrder& order, const std::optional<registry::Entry>& existing,
                      const ComponentStore::Placed& placed, bool was_running, bool upgrade);

    // ---- crash quarantine (lifecycle_quarantine.cpp) ----
    void mark_starting(const registry::Entry& entry);
    void clear_starting(const std::string& component_id);
    std::optional<std::string> quarantine_error(const registry::Entry& entry);
    struct Blame {
        std::vector<std::string> suspects;  // started first, one at a time
        std::vector<InterruptedInstall> answers;
        std::map<std::string, ComponentStatus> unregistered;  // failed, not in the registry
    };
    Blame blame_deaths(registry::Registry& registry, bool& changed,
                       std::vector<std::string>& problems);
    // The entry a first install that took the agent down in-process is registered as: in
    // process isolation, demoted because of `why`. nullopt when it cannot be (an older marker,
    // a file gone, or it was not in-process).
    // set_isolation() under lifecycle_mutex_ (also the install of the same build with other
    // settings).
    Outcome set_isolation_locked(const std::string& component_id,
                                 std::optional<Isolation> isolation,
                                 std::optional<registry::Limits> limits,
                                 std::optional<registry::RunAs> run_as);
    std::optional<registry::Entry> demoted_install(const std::string& component_id,
                                                   const PendingInstall& pending,
                                                   const std::string& why,
                                                   std::vector<std::string>& problems);
    // Removes the file of an interrupted install that no entry of `registry` names.
    void discard_unregistered(const std::string& component_id, const PendingInstall& pending,
                              const registry::Registry& registry);

    // "signed by key <id>, which is revoked (<why>)" when `entry` was installed under a revoked
    // key; nullopt otherwise. revoked_error(): the same as the `failed` error of fail mode, when
    // that applies to `entry`.
    std::optional<std::string> revoked_signer(const registry::Entry& entry) const;
    std::optional<std::string> revoked_error(const registry::Entry& entry) const;
    // "signature invalid: key <id> (<file>) is revoked (<why>)" when `key_id` is revoked now.
    std::optional<std::string> revoked_key_error(const std::string& key_id,
                                                 const std::string& key_file) const;
    // Publishes the status again when its revocation warning is no longer what the registered
    // entry says (set_status() stamps it from the entry).
    void restamp_warning(const std::string& component_id);
    // The installed build `entry` verified again under `signed_by` (install() of the same bytes
    // when its signer is revoked); started when it was kept out for its revoked signer.
    Outcome resign(const registry::Entry& entry, const std::string& signed_by);

    // Checks what runs ahead of the version floors; commits what passed its health window.
    std::optional<Error> floor_refusal(const std::string& dist, const std::string& version,
                                       const install::FloorContext& floor) const;
    void commit_floor(const std::string& component_id, const std::string& dist,
                      const std::string& version, const install::FloorContext& floor);
    void seed_floors(const registry::Registry& registry, std::vector<std::string>& problems);

    const LifecycleSettings settings_;
    std::optional<install::TrustState> trust_;  // none without settings_.trust_dir
    ComponentStore& store_;
    PluginRuntime& runtime_;
    StatusSink& sink_;

    std::mutex lifecycle_mutex_;  // serializes operations; never taken by plugin callbacks
    // Deaths counted at boot for a component's start, carried into its next start marker:
    // cid → (version, deaths). Guarded by state_mutex_ (the boot's parallel starts).
    std::map<std::string, std::pair<std::string, int>> start_deaths_;

    // A status's update and its publication (set_status), and a snapshot pass's reading and
    // publication (publish_views_in_order), one at a time: what reaches the broker last is the
    // newest. Never held while calling a plugin; taken before state_mutex_.
    std::mutex status_order_mutex_;
    mutable std::mutex state_mutex_;  // short sections only; never held while calling a plugin
    registry::Registry registry_;     // the last saved registry
    std::map<std::string, ComponentStatus> statuses_;
    std::map<std::string, Isolation> isolations_;   // of the last start: stamped on statuses
    std::map<std::string, std::string> demotions_;  // cid -> why it was demoted (entry.demoted)
    install::RevokedKeys revoked_;                  // set_revocations()
    bool revoked_fail_ = false;
    std::string revocations_unknown_;
    std::condition_variable status_cv_;
    std::map<std::string, std::string> starting_configs_;  // config of a start in progress
    bool stopping_all_ = false;
};

}  // namespace lucid::host::components
