// The plugin runtime that runs plugins in the agent's own process (PluginContext: dlopen, a
// worker thread per plugin), with the stall watch that reports a plugin stuck in a callback.
// The lifecycle's PluginRuntime port (lifecycle_ports.hpp); a child-process runtime is the
// other implementation to come (issue 17).
//
// Thread: map/start/discard/stop/running/propose_config from the lifecycle, concurrently for
// different components (the boot starts independent ones in parallel), one at a time for one;
// deliver and take_command from the network thread, concurrently with those. A stopped plugin
// gets no message after stop() began.
// Errors: Expected/Status, the plugin's or the loader's text (naming the file).
#pragma once

#include <map>
#include <memory>
#include <mutex>

#include "components/lifecycle_ports.hpp"
#include "plugin/plugin_context.hpp"
#include "plugin/plugin_stall_watch.hpp"

namespace lucid::host::components {

class InProcessRuntime final : public PluginRuntime {
  public:
    // `services`: what the plugins call (the agent's ComponentManager); it outlives this.
    // `stall_after`: a callback running this long makes its component failed/unresponsive.
    InProcessRuntime(PluginHostServices& services, PluginContext::Options options,
                     std::chrono::milliseconds stall_after);
    ~InProcessRuntime() override;  // stops every plugin still running

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

  private:
    PluginHostServices& services_;
    const PluginContext::Options options_;
    // Guards next_token_, mapped_ and running_; never held while a plugin's code runs (a load,
    // a start, a stop): the boot's parallel starts would wait for each other.
    mutable std::mutex plugins_mutex_;
    Token next_token_ = 1;
    std::map<Token, std::unique_ptr<PluginContext>> mapped_;
    std::map<std::string, std::unique_ptr<PluginContext>> running_;
    // For the network thread: the running plugins' contexts, valid while in the map.
    mutable std::mutex contexts_mutex_;
    std::map<std::string, PluginContext*> contexts_;
    // Last: its thread ends before the plugins it reaches through the contexts go away.
    PluginStallWatch stall_watch_;
};

}  // namespace lucid::host::components
