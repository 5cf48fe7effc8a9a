#include "plugin/plugin_component.hpp"

#include <mutex>
#include <vector>

namespace lucid::host {

Expected<std::unique_ptr<PluginComponent>> PluginComponent::load(const std::filesystem::path& file,
                                                                 PluginHostServices& services,
                                                                 Options options) {
    auto loaded = PluginLibrary::load(file);
    if (!loaded) return loaded.error();
    std::unique_ptr<PluginComponent> self(new PluginComponent());
    self->path_ = file;
    self->manifest_ = loaded.value()->manifest();
    self->library_ = std::move(loaded.value());
    self->context_ = std::make_unique<PluginContext>(
        self->library_->descriptor(), self->manifest_.component_id, self->manifest_.version,
        services, options.call_timeout, options.queue);
    return self;
}

PluginComponent::~PluginComponent() {
    if (!unloaded_) stop_and_unload();
}

PluginContext::StepResult PluginComponent::start() {
    PluginContext::StepResult result = context_->start();
    if (result.stuck) stuck_ = true;
    return result;
}

PluginComponent::StopReport PluginComponent::stop_and_unload() {
    StopReport report;
    if (unloaded_) {
        report.error = "already unloaded";
        return report;
    }
    unloaded_ = true;
    if (!stuck_) {
        PluginContext::StepResult stopped = context_->stop();
        report.ok = stopped.ok || stopped.not_running;
        report.error = report.ok ? "" : stopped.error;
        stuck_ = stopped.stuck;
    }
    final_status_ = context_->status();
    if (stuck_) {
        abandon();
        report.restart_required = true;
        if (report.error.empty()) report.error = "plugin is stuck in a call; kept loaded";
        return report;
    }
    context_.reset();  // joins nothing more: the worker already ended
    PluginLibrary::UnloadReport unloaded = library_->unload();
    report.unmapped = unloaded.unmapped;
    report.restart_required = unloaded.restart_required;
    return report;
}

void PluginComponent::abandon() {
    // Whatever the stuck thread does when it comes back must not reach the agent, which may by
    // then have uninstalled the component or be destroying itself at exit.
    context_->leave_host();
    // Deliberately never freed (nor destroyed at exit, where joining a stuck thread would hang).
    static std::mutex mutex;
    static auto* kept = new std::vector<
        std::pair<std::unique_ptr<PluginContext>, std::unique_ptr<PluginLibrary>>>();
    std::lock_guard<std::mutex> lock(mutex);
    kept->emplace_back(std::move(context_), std::move(library_));
}

}  // namespace lucid::host
