// PluginContext members about a plugin stuck in a callback: detection and recovery (driven by
// PluginStallWatch), the status a plugin reports meanwhile, and what stop() says about it.
#include <spdlog/spdlog.h>

#include "plugin/plugin_context.hpp"
#include "plugin/plugin_stall_watch.hpp"

namespace lucid::host {

bool PluginContext::unresponsive() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return stall_.has_value();
}

void PluginContext::check_responsive(PluginWorker::Clock::time_point now,
                                     std::chrono::milliseconds stall_after) {
    // In a runner, posted messages run before whatever the worker waits for there.
    auto busy = site_.runner_busy ? site_.runner_busy() : std::nullopt;
    if (!busy) busy = worker_.busy();
    std::unique_lock<std::mutex> lock(mutex_);
    // Start and stop have their own time limit (call_timeout_) and their own outcome.
    if (phase_ != Phase::running) return;
    if (dropped_ != dropped_reported_ || duplicates_ != duplicates_reported_) {
        // Messages were dropped (or duplicates skipped) since the last status: published here,
        // at this check's pace, not per message (and not from deliver_message(), on the
        // network thread).
        const ComponentStatus current = status_;
        lock.unlock();
        set_status(current.state, current.error);
        lock.lock();
        if (phase_ != Phase::running) return;
    }
    if (!stall_) {
        if (!busy || now - busy->since < stall_after) return;
        stall_ = Stall{*busy, stall_after, status_, 0};
        lock.unlock();
        const std::string error = unresponsive_error(busy->what, now - busy->since);
        log_->warn("plugin {} {}", component_id_, error);
        set_status(ComponentState::unresponsive, error);
        return;
    }
    // The same task still running (serial, not time: the next task may start at once).
    if (busy && busy->serial == stall_->task.serial) return;
    const Stall ended = std::move(*stall_);
    stall_.reset();
    lock.unlock();
    log_->info(
        "plugin {} responsive again: {} returned after {} s; {} message(s) dropped meanwhile",
        component_id_, ended.task.what, whole_seconds(now - ended.task.since), ended.dropped);
    set_status(ended.before.state, ended.before.error);
}

void PluginContext::report_plugin_status(ComponentState state, std::string error) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (stall_) {
            // From a plugin thread while a callback hangs: it is what recovery restores.
            stall_->before.state = state;
            stall_->before.error = std::move(error);
            return;
        }
    }
    set_status(state, std::move(error));
}

std::string PluginContext::stop_timeout_error(std::chrono::milliseconds waited) const {
    // In a runner, posted messages run before whatever the worker waits for there.
    auto busy = site_.runner_busy ? site_.runner_busy() : std::nullopt;
    if (!busy) busy = worker_.busy();
    if (busy && busy->what != "stop") {
        // stop is queued behind a callback that never returned: it did not even begin. That
        // callback may have started only just now, behind others that took the wait: both
        // durations are said, neither rounded down to "0 s".
        return "stop could not run within " + duration_text(waited) + ": " + busy->what +
               " still running after " + duration_text(PluginWorker::Clock::now() - busy->since);
    }
    return "stop did not return within " + duration_text(waited);
}

}  // namespace lucid::host
