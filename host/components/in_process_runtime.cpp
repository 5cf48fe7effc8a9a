#include "components/in_process_runtime.hpp"

#include "common/logging.hpp"

namespace lucid::host::components {

InProcessRuntime::InProcessRuntime(PluginHostServices& services, PluginContext::Options options,
                                   std::chrono::milliseconds stall_after)
    : services_(services), options_(options), stall_watch_(stall_after) {}

InProcessRuntime::~InProcessRuntime() {
    while (true) {
        std::string id;
        {
            std::lock_guard<std::mutex> lock(plugins_mutex_);
            if (running_.empty()) break;
            id = running_.begin()->first;
        }
        stop(id);
    }
}

Expected<PluginRuntime::Mapped> InProcessRuntime::map(const std::filesystem::path& file,
                                                      const RunOptions& options) {
    // Limits apply to a child process only; a run_as cannot be honoured here, and running the
    // plugin as the agent's user instead would be a silent widening of what it may touch.
    if (!options.run_as.empty()) {
        return Error{Errc::refused, file.string() + ": run_as needs isolation process (" +
                                        options.run_as.user + " asked, runs in_process)"};
    }
    auto loaded = PluginContext::load(file, services_, options_);
    if (!loaded) return loaded.error();
    std::lock_guard<std::mutex> lock(plugins_mutex_);
    const Token token = next_token_++;
    Mapped mapped{token, loaded.value()->component_id()};
    mapped_[token] = std::move(loaded.value());
    return mapped;
}

void InProcessRuntime::discard(Token token) {
    std::unique_ptr<PluginContext> plugin;
    {
        std::lock_guard<std::mutex> lock(plugins_mutex_);
        auto it = mapped_.find(token);
        if (it == mapped_.end()) return;
        plugin = std::move(it->second);
        mapped_.erase(it);
    }
    // Unloaded here, outside the lock.
}

Status InProcessRuntime::start(Token token, const std::string& component_id) {
    PluginContext* context = nullptr;
    {
        std::lock_guard<std::mutex> lock(plugins_mutex_);
        auto it = mapped_.find(token);
        if (it == mapped_.end()) return Error{Errc::invalid, "no such mapped plugin"};
        context = it->second.get();
        running_[component_id] = std::move(it->second);
        mapped_.erase(it);
    }
    PluginContext& plugin = *context;
    {
        std::lock_guard<std::mutex> lock(contexts_mutex_);
        contexts_[component_id] = &plugin;
    }
    stall_watch_.watch(component_id, plugin);
    Status started = plugin.start();
    if (!started) stop(component_id);  // unloads it, or keeps it for ever when stuck
    return started;
}

PluginRuntime::Stopped InProcessRuntime::stop(const std::string& component_id) {
    std::unique_ptr<PluginContext> plugin;
    {
        std::lock_guard<std::mutex> lock(plugins_mutex_);
        auto it = running_.find(component_id);
        if (it == running_.end()) return {};
        plugin = std::move(it->second);
        running_.erase(it);
    }
    {
        // After this no message reaches the plugin: deliver() holds contexts_mutex_ while it
        // hands messages to contexts.
        std::lock_guard<std::mutex> lock(contexts_mutex_);
        contexts_.erase(component_id);
    }
    // Not while holding a lock: a health check in progress may report through the services.
    stall_watch_.unwatch(component_id);
    const Status stopped = plugin->stop();
    bool restart_required = true;
    if (plugin->stuck()) {
        PluginContext::abandon(std::move(plugin));
    } else {
        restart_required = plugin->unload().restart_required;
    }
    // A plugin left stuck in a call never unsubscribed: its routes would reach a later plugin
    // of this component (whose subscription ids start again at 1).
    services_.unsubscribe_all(component_id);
    if (!stopped) {
        logger("components")
            ->warn("component {} stopped with an error: {}", component_id, stopped.error().message);
    }
    return {true, restart_required};
}

bool InProcessRuntime::running(const std::string& component_id) const {
    std::lock_guard<std::mutex> lock(plugins_mutex_);
    return running_.count(component_id) > 0;
}

Status InProcessRuntime::propose_config(const std::string& component_id,
                                        const std::string& config_json) {
    PluginContext* plugin = nullptr;
    {
        std::lock_guard<std::mutex> lock(plugins_mutex_);
        auto it = running_.find(component_id);
        if (it == running_.end()) {
            return Error{Errc::refused, "component not running: " + component_id};
        }
        plugin = it->second.get();
    }
    // Stopped only by the lifecycle, which serializes this call with the stop of the same
    // component: the context outlives the call.
    return plugin->propose_config(config_json);
}

void InProcessRuntime::deliver(const std::string& component_id, std::uint64_t subscription,
                               const std::string& topic, const std::string& payload, int qos,
                               bool retain) {
    std::lock_guard<std::mutex> lock(contexts_mutex_);
    auto it = contexts_.find(component_id);
    if (it != contexts_.end()) it->second->deliver_to(subscription, topic, payload, qos, retain);
}

bool InProcessRuntime::take_command(const std::string& component_id, const std::string& action,
                                    const std::string& payload) {
    std::lock_guard<std::mutex> lock(contexts_mutex_);
    auto it = contexts_.find(component_id);
    return it != contexts_.end() && it->second->take_command(action, payload);
}

}  // namespace lucid::host::components
