#include "plugin/plugin_stall_watch.hpp"

#include <algorithm>

#include "common/logging.hpp"
#include "plugin/plugin_context.hpp"

namespace lucid::host {

long long whole_seconds(std::chrono::steady_clock::duration d) {
    return std::chrono::duration_cast<std::chrono::seconds>(d).count();
}

std::string duration_text(std::chrono::steady_clock::duration d) {
    if (d < std::chrono::seconds(1)) {
        return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(d).count()) +
               " ms";
    }
    return std::to_string(whole_seconds(d)) + " s";
}

std::string unresponsive_error(const std::string& what,
                               std::chrono::steady_clock::duration running) {
    return "unresponsive: " + what + " running for " + std::to_string(whole_seconds(running)) +
           " s";
}

std::string unresponsive_refusal(const std::string& component_id) {
    return "component unresponsive: " + component_id;
}

PluginStallWatch::PluginStallWatch(std::chrono::milliseconds stall_after)
    : stall_after_(stall_after),
      period_(std::clamp(stall_after / 4, std::chrono::milliseconds(50),
                         std::chrono::milliseconds(1000))),
      thread_([this] { run(); }) {}

PluginStallWatch::~PluginStallWatch() {
    {
        std::lock_guard<std::mutex> lock(wake_mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    thread_.join();
}

void PluginStallWatch::watch(const std::string& id, PluginContext& context) {
    std::lock_guard<std::mutex> lock(mutex_);
    contexts_[id] = &context;
}

void PluginStallWatch::unwatch(const std::string& id) {
    std::lock_guard<std::mutex> lock(mutex_);  // a round in progress ends first
    contexts_.erase(id);
}

void PluginStallWatch::check_now() {
    std::lock_guard<std::mutex> lock(mutex_);
    const auto now = PluginWorker::Clock::now();
    for (auto& [id, context] : contexts_) context->check_responsive(now, stall_after_);
}

void PluginStallWatch::run() {
    std::unique_lock<std::mutex> lock(wake_mutex_);
    while (!wake_.wait_for(lock, period_, [this] { return stopping_; })) {
        lock.unlock();
        try {
            check_now();
        } catch (const std::exception& e) {  // a thread entry: nothing may escape
            try {
                logger("components")->error("plugin health check failed: {}", e.what());
            } catch (...) {
            }
        } catch (...) {
        }
        lock.lock();
    }
}

}  // namespace lucid::host
