#include "agent/runtime_config.hpp"

#include "common/logging.hpp"
#include "contract/payloads.hpp"

namespace lucid::host::agent {

RuntimeConfig::RuntimeConfig(CoreConfigStore store) : store_(std::move(store)) {
    std::string problem;
    config_ = store_.load(&problem);
    if (!problem.empty()) logger("agent")->warn("runtime config: {}", problem);
}

CoreConfig RuntimeConfig::get() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return config_;
}

void RuntimeConfig::set(const CoreConfig& config, const Save& save) {
    // Saved first: if the disk refuses, nothing was applied and the caller reports the error.
    if (save) {
        save(store_.path().filename().string(), CoreConfigStore::text(config));
    } else {
        store_.save(config);
    }
    std::vector<Listener> listeners;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        config_ = config;
        listeners = listeners_;
    }
    for (const auto& listener : listeners) listener(config);
}

void RuntimeConfig::on_change(Listener listener) {
    std::lock_guard<std::mutex> lock(mutex_);
    listeners_.push_back(std::move(listener));
}

}  // namespace lucid::host::agent
