// The lifecycle's side of process isolation (README "Process isolation"): changing where a
// component runs, and keeping out one that crashed too often in its child process.
#include "common/logging.hpp"
#include "components/component_lifecycle.hpp"

namespace lucid::host::components {

Outcome ComponentLifecycle::set_isolation(const std::string& component_id,
                                          std::optional<Isolation> isolation,
                                          std::optional<registry::Limits> limits) {
    std::lock_guard<std::mutex> lifecycle(lifecycle_mutex_);
    const auto entry = registered(component_id);
    if (!entry) return not_found(component_id);
    registry::Entry changed = *entry;
    if (isolation) {
        changed.isolation = to_string(*isolation);
        changed.demoted.clear();  // the operator's choice from now on
    }
    if (limits) changed.limits = *limits;
    Outcome outcome;
    outcome.dist_name = entry->dist_name;
    outcome.version = entry->version;
    if (changed == *entry) {
        outcome.noop = true;
        return outcome;
    }
    registry::Registry updated = registry();
    updated.put(changed);
    if (auto saved = save(updated); !saved) {
        return Outcome::failed(saved.error().code,
                               "cannot save the registry: " + saved.error().message);
    }
    // Applied by restarting this component alone, when it runs.
    remember_isolation(changed);
    if (!runtime_.running(component_id)) return outcome;
    const auto stopped = runtime_.stop(component_id);
    outcome.restart_required = stopped.restart_required;
    Outcome started = start_locked(changed);
    if (!started.ok()) {
        started.restart_required = outcome.restart_required;
        return started;
    }
    return outcome;
}

void ComponentLifecycle::quarantine(const std::string& component_id, const std::string& error) {
    std::lock_guard<std::mutex> lifecycle(lifecycle_mutex_);
    const auto entry = registered(component_id);
    if (!entry) return;
    runtime_.stop(component_id);  // the runtime gave up on it; this forgets it there
    store_.set_quarantine(component_id, Quarantine{error, entry->version, entry->sha256, {}, {}});
    if (entry->enabled) {
        registry::Entry disabled = *entry;
        disabled.enabled = false;
        registry::Registry updated = registry();
        updated.put(disabled);
        if (auto saved = save(updated); !saved) {
            logger("components")->error("cannot save the registry: {}", saved.error().message);
        }
    }
    set_status(component_id, {ComponentState::quarantined, entry->version, error});
    sink_.changed();
}

}  // namespace lucid::host::components
