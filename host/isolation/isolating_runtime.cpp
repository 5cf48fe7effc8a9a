#include "isolation/isolating_runtime.hpp"

namespace lucid::host::isolation {

IsolatingRuntime::IsolatingRuntime(PluginRuntime& in_process, PluginRuntime& process)
    : in_process_(in_process), process_(process) {}

PluginRuntime* IsolatingRuntime::of(const std::string& component_id) const {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = started_.find(component_id);
    return it == started_.end() ? nullptr : it->second;
}

Expected<PluginRuntime::Mapped> IsolatingRuntime::map(const std::filesystem::path& file,
                                                      const RunOptions& options) {
    PluginRuntime& runtime = options.isolation == Isolation::process ? process_ : in_process_;
    auto mapped = runtime.map(file, options);
    if (!mapped) return mapped;
    std::lock_guard<std::mutex> lock(mutex_);
    const Token token = next_token_++;
    mapped_[token] = {&runtime, mapped.value().token};
    mapped.value().token = token;
    return mapped;
}

Status IsolatingRuntime::start(Token token, const std::string& component_id) {
    std::pair<PluginRuntime*, Token> inner;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        auto it = mapped_.find(token);
        if (it == mapped_.end()) return Error{Errc::invalid, "no such mapped plugin"};
        inner = it->second;
        mapped_.erase(it);
        started_[component_id] = inner.first;
    }
    return inner.first->start(inner.second, component_id);
}

void IsolatingRuntime::discard(Token token) {
    std::pair<PluginRuntime*, Token> inner;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        auto it = mapped_.find(token);
        if (it == mapped_.end()) return;
        inner = it->second;
        mapped_.erase(it);
    }
    inner.first->discard(inner.second);
}

PluginRuntime::Stopped IsolatingRuntime::stop(const std::string& component_id) {
    PluginRuntime* runtime = of(component_id);
    if (!runtime) return {};
    const Stopped stopped = runtime->stop(component_id);
    std::lock_guard<std::mutex> lock(mutex_);
    // A start of the other runtime may have replaced it meanwhile.
    if (auto it = started_.find(component_id); it != started_.end() && it->second == runtime) {
        started_.erase(it);
    }
    return stopped;
}

bool IsolatingRuntime::running(const std::string& component_id) const {
    PluginRuntime* runtime = of(component_id);
    return runtime && runtime->running(component_id);
}

Status IsolatingRuntime::propose_config(const std::string& component_id,
                                        const std::string& config_json) {
    PluginRuntime* runtime = of(component_id);
    if (!runtime) return Error{Errc::refused, "component not running: " + component_id};
    return runtime->propose_config(component_id, config_json);
}

void IsolatingRuntime::deliver(const std::string& component_id, std::uint64_t subscription,
                               const std::string& topic, const std::string& payload, int qos,
                               bool retain) {
    if (PluginRuntime* runtime = of(component_id)) {
        runtime->deliver(component_id, subscription, topic, payload, qos, retain);
    }
}

void IsolatingRuntime::remove_data(const std::string& component_id) {
    in_process_.remove_data(component_id);
    process_.remove_data(component_id);
}

bool IsolatingRuntime::take_command(const std::string& component_id, const std::string& action,
                                    const std::string& payload) {
    PluginRuntime* runtime = of(component_id);
    return runtime && runtime->take_command(component_id, action, payload);
}

}  // namespace lucid::host::isolation
