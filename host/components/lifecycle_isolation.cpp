// The lifecycle's side of process isolation (README "Process isolation"): changing where a
// component runs, and keeping out one that crashed too often in its child process.
#include <grp.h>
#include <pwd.h>

#include "common/logging.hpp"
#include "components/component_lifecycle.hpp"

namespace lucid::host::components {

Outcome ComponentLifecycle::set_isolation(const std::string& component_id,
                                          std::optional<Isolation> isolation,
                                          std::optional<registry::Limits> limits,
                                          std::optional<registry::RunAs> run_as) {
    std::lock_guard<std::mutex> lifecycle(lifecycle_mutex_);
    return set_isolation_locked(component_id, isolation, limits, run_as);
}

Outcome ComponentLifecycle::set_isolation_locked(const std::string& component_id,
                                                 std::optional<Isolation> isolation,
                                                 std::optional<registry::Limits> limits,
                                                 std::optional<registry::RunAs> run_as) {
    const auto entry = registered(component_id);
    if (!entry) return not_found(component_id);
    registry::Entry changed = *entry;
    if (isolation) {
        changed.isolation = to_string(*isolation);
        changed.demoted.clear();  // the operator's choice from now on
    }
    if (limits) changed.limits = *limits;
    if (run_as) changed.run_as = *run_as;
    // Also when only the isolation or a limit changes: an entry may keep a run_as the setting no
    // longer allows, and nothing must be restarted into a child that cannot start.
    if (auto why = run_as_problem(changed)) return Outcome::failed(Errc::refused, *why);
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
    // Applied by restarting this component alone, when it runs; otherwise shown at once.
    remember_isolation(changed);
    if (!runtime_.running(component_id)) {
        sink_.changed();
        return outcome;
    }
    const auto stopped = runtime_.stop(component_id);
    outcome.restart_required = stopped.restart_required;
    Outcome started = start_locked(changed);
    if (!started.ok()) {
        // Nothing half-applied: the settings it ran with come back, and it runs again with them.
        registry::Registry restored = registry();
        restored.put(*entry);
        if (auto saved = save(restored); !saved) {
            logger("components")->error("cannot save the registry: {}", saved.error().message);
        }
        remember_isolation(*entry);
        const Outcome again = start_locked(*entry);
        started.error = Error{
            started.error->code,
            started.error->message + "; the previous settings are back" +
                (again.ok() ? "" : " (it did not start again: " + again.error->message + ")")};
        started.restart_required = outcome.restart_required;
        sink_.changed();
        return started;
    }
    return outcome;
}

std::optional<std::string> ComponentLifecycle::run_as_problem(const registry::Entry& entry) const {
    if (entry.run_as.empty()) return std::nullopt;
    // In the agent's process nobody can switch users: it would run as the agent's user, silently.
    if (const Isolation where = isolation_of(entry); where != Isolation::process) {
        return "run_as needs isolation process: " + entry.component_id + " would run " +
               to_string(where);
    }
    if (auto refused = registry::run_as_refusal(settings_.run_as_allowed, entry.run_as)) {
        return refused;
    }
    // Refused now, not found by the child it would be restarted into.
    if (!::getpwnam(entry.run_as.user.c_str())) return "run_as: no such user: " + entry.run_as.user;
    for (const auto& group : entry.run_as.groups) {
        if (!::getgrnam(group.c_str())) return "run_as: no such group: " + group;
    }
    return std::nullopt;
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
