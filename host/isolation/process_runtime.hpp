// The plugin runtime that runs each plugin in a lucid-plugin-runner child of its own (issue 17,
// README "Process isolation"): the lifecycle's PluginRuntime port, like InProcessRuntime, with
// the plugin's real PluginContext kept in the agent and its code in the child
// (runner_channel.hpp). A child that dies, stops answering or goes over its memory limit is
// reported (`failed`, "crashed: SIGSEGV in timer callback") and started again with backoff; after
// `crashes_before_quarantine` crashes within `crash_window` it is quarantined (the handler set
// with on_quarantine()). A plugin stuck in a call is killed with its child: stop and uninstall
// never leave a library mapped (restart_required is always false).
//
// Thread: the port's rules (lifecycle_ports.hpp). Its own supervisor thread restarts, watches
// memory and pings; the handler given to on_quarantine() runs there, never under a lock of
// this runtime.
// Errors: Expected/Status naming the file or the child's end.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "isolation/runner_channel.hpp"
#include "lucid/registry/run_as_allowed.hpp"
#include "plugin/plugin_context.hpp"
#include "plugin/plugin_runtime.hpp"
#include "plugin/plugin_stall_watch.hpp"

namespace lucid::host::isolation {

struct ProcessRuntimeSettings {
    std::filesystem::path runner;          // lucid-plugin-runner (runner_path())
    std::filesystem::path component_dirs;  // {data}/isolated: each component's writable dir
    PluginContext::Options plugin;         // call timeout, queue limits
    std::chrono::milliseconds stall_after{std::chrono::seconds(30)};
    int crashes_before_quarantine = 3;
    std::chrono::seconds crash_window{600};
    std::chrono::milliseconds first_backoff{100};  // after the second crash; the first: at once
    std::chrono::milliseconds max_backoff{std::chrono::seconds(30)};
    std::chrono::milliseconds watch_interval{200};                      // memory and ping
    std::chrono::milliseconds silence_limit{std::chrono::seconds(10)};  // no pong: killed
    // LUCID_RUN_AS_ALLOWED: checked again at each spawn (a registry entry may predate it).
    registry::RunAsAllowed run_as_allowed{};
};

class ProcessRuntime final : public PluginRuntime {
  public:
    ProcessRuntime(PluginHostServices& services, ProcessRuntimeSettings settings);
    ~ProcessRuntime() override;  // stops every plugin, ends the supervisor

    using QuarantineFn =
        std::function<void(const std::string& component_id, const std::string& error)>;
    void on_quarantine(QuarantineFn fn);

    Expected<Mapped> map(const std::filesystem::path& file, const RunOptions& options) override;
    Status start(Token token, const std::string& component_id) override;
    void discard(Token token) override;
    Stopped stop(const std::string& component_id) override;
    bool running(const std::string& component_id) const override;
    Status propose_config(const std::string& component_id, const std::string& config_json) override;
    void deliver(const std::string& component_id, std::uint64_t subscription,
                 const std::string& topic, const std::string& payload, int qos,
                 bool retain) override;
    bool take_command(const std::string& component_id, const std::string& action,
                      const std::string& payload) override;
    void remove_data(const std::string& component_id) override;

  private:
    class Services;  // the plugin's services, its statuses stamped with isolation facts
    struct Instance;
    struct Slot;
    struct Death {
        std::string component_id;
        std::uint64_t generation;
        RunnerChannel::Death death;
    };

    Expected<std::unique_ptr<Instance>> launch(const std::filesystem::path& file,
                                               const RunOptions& options);
    // Makes a launched instance the running one of `component_id` and starts its plugin.
    // `restart`: the supervisor's, after a crash.
    Status run(std::unique_ptr<Instance> instance, const std::string& component_id, bool restart);
    void teardown(std::unique_ptr<Instance> instance);
    // How long start and stop may run before the child is killed.
    std::chrono::milliseconds kill_after() const;
    void supervise();
    void handle_death(const Death& death);
    void restart_due();
    void watch();

    PluginHostServices& services_;
    const ProcessRuntimeSettings settings_;

    mutable std::mutex mutex_;
    std::condition_variable wake_;
    bool ending_ = false;
    Token next_token_ = 1;
    std::uint64_t next_generation_ = 1;
    std::map<Token, std::unique_ptr<Instance>> mapped_;
    std::map<std::string, Slot> slots_;
    std::deque<Death> deaths_;
    QuarantineFn quarantine_;

    mutable std::mutex contexts_mutex_;  // for the network thread
    std::map<std::string, PluginContext*> contexts_;

    PluginStallWatch stall_watch_;
    std::thread supervisor_;  // last
};

}  // namespace lucid::host::isolation
