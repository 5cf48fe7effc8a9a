// The host side of one running plugin instance: implements the C table `lucid_host_api` on top
// of PluginHostServices (its public members for the plugin's calls, plugin_context_api.cpp),
// owns the plugin's worker (plugin_worker.hpp), its subscriptions, timers and command handlers,
// and runs the lifecycle calls create/start/stop/destroy.
//
// The agent core calls, from any thread (typically the MQTT network thread, never blocked by
// a plugin):
//   deliver_to()       for a message the router matched against one of the plugin's
//                      subscriptions (deliver_message() matches a topic against all of them);
//                      the callback is queued on the plugin's worker;
//   take_command()     for its `components/{cid}/cmd/{action}` commands: queued on the worker,
//                      which is their command lane (PluginHostServices::admit_command);
//   propose_config()   for `components/{cid}/cfg/set` (waits for the plugin; off the network
//                      thread);
//   status()           for snapshots;
//   check_responsive() from a PluginStallWatch (plugin_stall_watch.hpp, which also describes
//                      what an unresponsive plugin looks like from outside).
// Lifecycle (the plugin runtime drives it):
//   auto plugin = PluginContext::load(file, services, options);  // the loader: nothing runs yet
//   if (!plugin) report(plugin.error().message);                  // names the file
//   plugin.value()->start();   plugin.value()->stop();
//   if (plugin.value()->stuck()) PluginContext::abandon(std::move(plugin.value()));
//   else plugin.value()->unload();                                // dlclose, and did it leave?
// start() once, stop() once. After stop() returns, no callback of the plugin runs any more
// (queue closed, timers cancelled, subscriptions forgotten) unless it is stuck(). A start()
// that times out closes the worker and forgets the plugin's subscriptions, commands and timers
// at once; if start returns later, the instance is stopped and destroyed right there on the
// worker.
//
// Errors: Status/Expected (Errc::plugin: the plugin's own error; Errc::stuck: it did not return
// in time); no member throws; the C trampolines never let an exception reach the plugin.
#pragma once

#include <lucid/plugin.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/expected.hpp"
#include "plugin/duplicate_filter.hpp"
#include "plugin/plugin_host_link.hpp"
#include "plugin/plugin_host_services.hpp"
#include "plugin/plugin_library.hpp"
#include "plugin/plugin_worker.hpp"

namespace spdlog {
class logger;
}

namespace lucid::host {

// Where a PluginContext's callbacks run: here, on the worker (the default), or in a
// lucid-plugin-runner child (`in_runner`), whose own callback thread keeps plugin.h's
// promise that no callback of a subscription, timer or command runs once
// unsubscribe/timer_cancel/unregister_command returned (runner/plugin_runner.hpp). The agent
// must not wait for its worker then: the child's callback thread may be the one waiting for
// that very call while the worker waits for it.
struct PluginCallbackSite {
    bool in_runner = false;
    // In a runner: the callback running there that no worker task waits for (a posted
    // message), since when; check_responsive() and a stop that timed out look at it first.
    std::function<std::optional<PluginWorker::Busy>()> runner_busy;
    // The table handed to the plugin's create(); null: api_table(). Tests hand a copy cut to an
    // older minor version, as an older agent would offer (lucid/plugin.h, LUCID_HOST_HAS).
    const lucid_host_api* api = nullptr;
};

class PluginContext {
  public:
    struct Options {
        // Upper bound for create/start/stop/config calls into the plugin.
        std::chrono::milliseconds call_timeout = std::chrono::seconds(10);
        // Bounds of the plugin's queue of commands and messages; unbounded by default.
        PluginWorker::Limits queue;
    };

    // The loader (plugin_library.hpp: manifest checks, dlopen, descriptor checks); no plugin
    // callback runs. The instance owns the library. The error names the file.
    static Expected<std::unique_ptr<PluginContext>> load(const std::filesystem::path& file,
                                                         PluginHostServices& services,
                                                         Options options);
    static Expected<std::unique_ptr<PluginContext>> load(const std::filesystem::path& file,
                                                         PluginHostServices& services) {
        return load(file, services, Options{});
    }

    // A plugin whose library someone else keeps loaded: `descriptor` must stay callable until
    // stop() returned (tests drive the ABI with descriptors of their own).
    PluginContext(const lucid_plugin_descriptor& descriptor, std::string component_id,
                  std::string version, PluginHostServices& services,
                  std::chrono::milliseconds call_timeout = std::chrono::seconds(10),
                  PluginWorker::Limits queue = {}, PluginCallbackSite site = {});
    ~PluginContext();  // stop() when still running
    PluginContext(const PluginContext&) = delete;
    PluginContext& operator=(const PluginContext&) = delete;

    // create + start on the worker. On failure the instance is destroyed, everything it
    // registered is forgotten, and the status is `failed` with the plugin's error text.
    Status start();
    // stop + destroy on the worker, after cancelling timers and forgetting subscriptions and
    // commands; then closes the worker. Status `stopped` (error set when stop failed). Done
    // when there was nothing to stop.
    Status stop();
    // A start or stop did not return in time: the plugin's code may still run on its worker,
    // so neither its library nor this object may go away (abandon()).
    bool stuck() const;

    // After stop() of a plugin that is not stuck(): closes its library and checks it left the
    // address space (plugin_library.hpp). Nothing to do for a plugin without a library.
    PluginLibrary::UnloadReport unload();
    // A stuck plugin: cut off from the agent (leave_host()) and kept, with its library, for the
    // rest of the process, neither freed nor destroyed at exit (where joining its thread would
    // hang), so that whatever its thread does when it comes back finds memory that is still
    // there and reaches nothing.
    static void abandon(std::unique_ptr<PluginContext> plugin);

    // Returns true when the message matched a subscription of this plugin. Beyond the queue's
    // limits it is dropped (counted in status().dropped_messages).
    bool deliver_message(const std::string& topic, const std::string& payload, int qos,
                         bool retain);
    // A message the router matched against one subscription's filter (the agent routes each
    // subscription by itself: PluginHostServices::subscribe): queued for that subscription
    // only. False when it is gone.
    bool deliver_to(std::uint64_t subscription, const std::string& topic,
                    const std::string& payload, int qos, bool retain);
    // A command for this plugin (never a retained one): queued, or answered at once without
    // running (unresponsive; `busy: component queue full: <cid>` beyond the queue's limits).
    // False when the plugin takes nothing (not starting or running): the caller answers.
    bool take_command(const std::string& action, const std::string& payload);

    // Asks the plugin (config_changed) about a new whole config; when it accepts, the config is
    // persisted through the services. ok=false with the plugin's reason when refused, with
    // "cannot save config: ..." when it cannot be stored, and when the plugin does not answer
    // within the call timeout; in those last cases the plugin gets the stored config back.
    Status propose_config(const std::string& config_json);

    ComponentStatus status() const;

    // The health check (plugin_stall_watch.hpp). While running: a callback busy for at least
    // `stall_after` at `now` makes the component failed/unresponsive; once that callback has
    // returned, the status from before comes back. Call from one thread at a time.
    void check_responsive(PluginWorker::Clock::time_point now,
                          std::chrono::milliseconds stall_after);
    bool unresponsive() const;

    // Cuts the plugin off from the agent (plugin_host_link.hpp) when it is left behind stuck
    // in a call: whatever its thread does when it comes back reaches nothing. Waits for a
    // call into the services in progress.
    void leave_host();

    const std::string& component_id() const { return component_id_; }
    // The table handed to the plugin (for tests that drive the ABI directly).
    static const lucid_host_api& api_table();

    // ---- the plugin's calls (lucid_host_api; plugin_context_api.cpp), from any thread the
    // plugin calls on. The C trampolines (plugin_api_table.cpp) forward to these; their
    // arguments are the plugin's, checked here.
    lucid_status publish(const char* topic, const void* payload, size_t len, int qos, bool retain);
    lucid_status publish_event(const char* type, const char* data, const char* correlation_id);
    lucid_status subscribe(const char* filter, int qos, lucid_message_fn fn, void* user,
                           uint64_t* out_id);
    // ABI 1.1.
    lucid_status subscribe_with(const char* filter, int qos, const lucid_subscribe_options* options,
                                lucid_message_fn fn, void* user, uint64_t* out_id);
    lucid_status publish_metric(const char* metric, double value, const char* unit);
    lucid_status unsubscribe(uint64_t id);
    lucid_status start_timer(uint32_t first_ms, uint32_t period_ms, lucid_timer_fn fn, void* user,
                             uint64_t* out_id);
    lucid_status cancel_timer(uint64_t id);
    void log(lucid_log_level level, const char* message);
    lucid_status report_status(lucid_component_state state, const char* error);
    // Copies the config into `buf` (cut at `capacity - 1`, NUL-terminated); returns its length.
    size_t copy_config(char* buf, size_t capacity);
    lucid_status register_command(const char* action, lucid_command_fn fn, void* user);
    lucid_status unregister_command(const char* action);
    // An exception a call above let out, caught by its trampoline.
    void log_host_failure(const char* call, const char* error) const noexcept;

  private:
    struct Subscription {
        std::string filter;
        lucid_message_fn fn;
        void* user;
        // LUCID_SUBSCRIBE_DEDUP: the envelope ids it was handed (guarded by mutex_).
        std::shared_ptr<DuplicateFilter> dedup;
    };
    struct CommandHandler {
        std::uint64_t tag;
        lucid_command_fn fn;
        void* user;
    };
    enum class Phase { created, starting, running, stopping, stopped };
    // A callback that ran past the threshold, from detection until it returns.
    struct Stall {
        PluginWorker::Busy task;
        std::chrono::milliseconds threshold;
        ComponentStatus before;     // restored on recovery; report_status() meanwhile goes here
        std::uint64_t dropped = 0;  // subscription messages not queued meanwhile
    };
    // With `unless_reported`, nothing changes once the plugin reported a state of its own.
    void set_status(ComponentState state, std::string error, bool unless_reported = false);
    // report_status() from the plugin: held back while unresponsive, published otherwise.
    void report_plugin_status(ComponentState state, std::string error);
    // The error when stop() could not run the plugin's stop within `waited`.
    std::string stop_timeout_error(std::chrono::milliseconds waited) const;
    void forget_registrations();  // subscriptions, commands, timers
    void run_command(const std::string& action, const std::string& payload);
    // Counts a message dropped because the queue was full; WARNs at the first of a run.
    void drop_message(const std::string& topic);
    // On the worker: asks the plugin, stores what it accepted, or gives it the stored config
    // back when storing fails or the answer was given up on (plugin_context_config.cpp).
    struct ConfigChange;
    void apply_config(const std::string& config_json, ConfigChange& change);
    // Queues a message for the subscriptions `select` picks (called under mutex_).
    bool offer_message(const std::function<std::vector<std::uint64_t>()>& select,
                       const std::string& topic, const std::string& payload, int qos, bool retain);
    bool accepting() const;  // phase starting/running
    bool closed() const;     // phase stopped

    // First: unloaded after every member that can run the plugin's code has gone.
    std::unique_ptr<PluginLibrary> library_;  // null when the caller keeps the descriptor's code
    const lucid_plugin_descriptor descriptor_;
    const std::string component_id_;
    const std::string version_;
    HostLink host_;  // the services, until leave_host()
    const std::chrono::milliseconds call_timeout_;
    const PluginCallbackSite site_;
    const std::string base_topic_;  // services.base_topic(), which never changes
    const std::string prefix_;      // {base}/components/{cid}/
    std::shared_ptr<spdlog::logger> log_;

    mutable std::mutex mutex_;
    Phase phase_ = Phase::created;
    ComponentStatus status_;
    std::map<std::uint64_t, Subscription> subscriptions_;
    // Metric names publish_metric refused and said so (once each, a bounded number of them).
    static constexpr std::size_t kRefusedMetricNamesKept = 64;
    std::set<std::string> refused_metric_names_;
    std::map<std::string, CommandHandler, std::less<>> commands_;
    std::optional<Stall> stall_;
    std::uint64_t dropped_ = 0;              // messages dropped since start (status_.dropped...)
    std::uint64_t dropped_reported_ = 0;     // the count the last published status carried
    bool dropping_ = false;                  // the last message offered was dropped
    std::uint64_t duplicates_ = 0;           // dropped as duplicates since start
    std::uint64_t duplicates_reported_ = 0;  // the count the last published status carried
    bool stuck_ = false;                     // a start or stop did not return in time
    void* instance_ = nullptr;               // touched on the worker only

    PluginWorker worker_;  // last: its thread ends before the members above go away
};

}  // namespace lucid::host
