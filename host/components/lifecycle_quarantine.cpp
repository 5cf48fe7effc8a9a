// The lifecycle's side of components that take the agent down (README "Crash quarantine"). At
// boot, the last death is blamed on the component a fatal signal was recorded for
// (plugin/crash_record.hpp), else on a component during whose start the agent died
// `start_deaths_before_quarantine` times in a row. A registered one that ran in-process is
// demoted: it runs in process isolation from then on (README "Process isolation"); so does a
// first install in progress, registered there and answered ok:true, demoted. Otherwise the build
// blamed does not run again: a registered one is quarantined (disabled, status `failed` with the
// reason) until it is enabled or another build is installed; an upgrade in progress is answered
// ok:false, rolled back (the version before runs again); another install in progress ok:false;
// a drop-in file not demoted is left in place and not loaded again until it changes. A death nobody
// can be blamed for only counts: the components that were starting (the suspects) are started
// first, one at a time, each alone under its start marker, so that a second death is theirs to
// count.
#include "common/logging.hpp"
#include "components/component_lifecycle.hpp"
#include "lucid/registry/registry_json.hpp"

namespace lucid::host::components {
namespace fs = std::filesystem;

void ComponentLifecycle::mark_starting(const registry::Entry& entry) {
    StartMarker marker{entry.path, entry.version, 0};
    {
        std::lock_guard<std::mutex> lock(state_mutex_);
        if (auto it = start_deaths_.find(entry.component_id);
            it != start_deaths_.end() && it->second.first == entry.version) {
            marker.deaths = it->second.second;
        }
    }
    store_.mark_starting(entry.component_id, marker);
}

void ComponentLifecycle::clear_starting(const std::string& component_id) {
    store_.clear_starting(component_id);
    std::lock_guard<std::mutex> lock(state_mutex_);
    start_deaths_.erase(component_id);  // it started: the count begins again
}

std::optional<std::string> ComponentLifecycle::quarantine_error(const registry::Entry& entry) {
    auto q = store_.quarantine(entry.component_id);
    if (!q) return std::nullopt;
    // A quarantine of another build (an upgrade that crashed, a drop-in kept out) does not
    // stop the registered one.
    if (!q->version.empty() &&
        (q->version != entry.version || (!q->sha256.empty() && q->sha256 != entry.sha256))) {
        return std::nullopt;
    }
    return q->error;
}

ComponentLifecycle::Blame ComponentLifecycle::blame_deaths(registry::Registry& registry,
                                                           bool& changed,
                                                           std::vector<std::string>& problems) {
    Blame blame;
    struct Culprit {
        std::string version;
        std::string error;  // its status while quarantined
        std::string why;    // what it did, for a demotion: "crashed: SIGSEGV in timer"
    };
    std::map<std::string, Culprit> culprits;

    auto evidence = store_.read_deaths();
    problems.insert(problems.end(), evidence.problems.begin(), evidence.problems.end());
    if (const auto& crash = evidence.crash) {
        const std::string error = crash::crash_error(*crash);
        culprits[crash->component_id] = {crash->version, error, error};
        problems.push_back("component " + crash->component_id + " " + crash->version +
                           " took the agent down: " + crash->signal + " in " + crash->callback);
    }

    // Deaths while starting count only when no plugin was caught crashing: a crash explains
    // the death, whoever else was starting then.
    const int limit = std::max(1, settings_.start_deaths_before_quarantine);
    for (const auto& [id, marker] : evidence.starting) {
        if (!marker || !culprits.empty()) continue;
        const int deaths = marker->deaths + 1;
        if (deaths >= limit) {
            const std::string died = "the agent died " + std::to_string(deaths) +
                                     (deaths == 1 ? " time" : " times") +
                                     " in a row while this component was starting";
            culprits[id] = {marker->version,
                            "quarantined: " + died + "; enable or re-install it to try again",
                            died};
            problems.push_back("component " + id + " " + marker->version + ": " +
                               culprits[id].error);
        } else {
            std::lock_guard<std::mutex> lock(state_mutex_);
            start_deaths_[id] = {marker->version, deaths};
            blame.suspects.push_back(id);
            problems.push_back("component " + id + " " + marker->version +
                               ": the agent stopped while it was starting (" +
                               std::to_string(deaths) + " of " + std::to_string(limit) +
                               " before quarantine); starting it first, alone");
        }
    }

    const auto& pending = evidence.installing;
    for (const auto& [id, culprit] : culprits) {
        const registry::Entry* entry = registry.find(id);
        const bool registered = entry && entry->kind == registry::EntryKind::native &&
                                entry->version == culprit.version;
        auto p = pending.find(id);
        const bool installing = p != pending.end() && p->second.version == culprit.version;
        // In process isolation it cannot take the agent down again: it runs there from now on,
        // and is quarantined only if it keeps crashing there (isolation/process_runtime.hpp).
        if (registered && isolation_of(*entry) == Isolation::in_process) {
            registry::Entry moved = *entry;
            moved.isolation = to_string(Isolation::process);
            moved.demoted = culprit.why;
            registry.put(moved);
            changed = true;
            problems.push_back("component " + id + " " + culprit.version +
                               " took the agent down (" + culprit.why +
                               "): it runs in process isolation from now on");
            if (installing) {
                blame.answers.push_back({id, p->second, culprit.why, false, "", true});
            }
            continue;
        }
        // A first install, likewise: registered and answered ok:true, demoted. An upgrade is
        // rolled back instead: a version that ran well is there to go back to, and a rollout
        // must see the new one fail rather than spread it.
        if (installing && !entry) {
            if (auto moved = demoted_install(id, p->second, culprit.why, problems)) {
                registry.put(*moved);
                changed = true;
                blame.answers.push_back({id, p->second, culprit.why, false, "", true});
                continue;
            }
        }
        Quarantine q{culprit.error, culprit.version, "", "", {}};
        if (registered) {
            q.sha256 = entry->sha256;
            q.dropin_path = dropin_file_of(*entry).string();
        } else if (installing) {
            q.sha256 = p->second.sha256;
            q.dropin_path = dropin_file_of_source(p->second.source_json).string();
        }
        if (!q.dropin_path.empty()) q.dropin = store_.file_version(q.dropin_path);
        // The registered build stays out until enabled; a drop-in file until it changes. An
        // install over MQTT is answered and not retried by itself: nothing more to keep.
        if (registered || !q.dropin_path.empty()) store_.set_quarantine(id, q);
        if (registered && entry->enabled) {
            registry::Entry disabled = *entry;
            disabled.enabled = false;
            registry.put(disabled);
            changed = true;
        }
        if (installing) {
            const bool rolled_back = entry && !registered;
            blame.answers.push_back({id, p->second, culprit.error, rolled_back,
                                     rolled_back ? entry->version : "", false});
            problems.push_back("the install of " + id + " " + culprit.version +
                               " failed: " + culprit.error +
                               (rolled_back ? "; version " + entry->version + " runs again" : ""));
        }
        // A drop-in file kept out is shown failed until it changes or goes; a first install
        // over MQTT is answered, and leaves no status behind (contract §4.1).
        if (!entry && !q.dropin_path.empty()) {
            blame.unregistered[id] = {ComponentState::quarantined, culprit.version, culprit.error};
        }
    }
    for (const auto& [id, install] : pending) discard_unregistered(id, install, registry);
    // Drop-in files kept out by an earlier boot, of components not registered: still failed.
    for (const auto& [id, q] : store_.quarantines()) {
        if (registry.find(id) || blame.unregistered.count(id)) continue;
        if (!q.dropin_path.empty()) {
            blame.unregistered[id] = {ComponentState::quarantined, q.version, q.error};
        }
    }
    return blame;
}

std::optional<registry::Entry> ComponentLifecycle::demoted_install(
    const std::string& component_id, const PendingInstall& pending, const std::string& why,
    std::vector<std::string>& problems) {
    if (pending.entry_json.empty()) return std::nullopt;  // an older agent's marker
    registry::Entry entry;
    try {
        entry = registry::entry_from_json(component_id, pending.entry_json);
    } catch (const std::invalid_argument& e) {
        problems.push_back("the interrupted install of " + component_id + " cannot be read (" +
                           e.what() + "): answered as failed");
        return std::nullopt;
    }
    // Its file was kept by the store's recovery (ComponentStore::load).
    if (isolation_of(entry) != Isolation::in_process) return std::nullopt;
    entry.isolation = to_string(Isolation::process);
    entry.demoted = why;
    problems.push_back("component " + component_id + " " + entry.version +
                       " took the agent down in its first start (" + why +
                       "): installed in process isolation");
    return entry;
}

void ComponentLifecycle::discard_unregistered(const std::string& component_id,
                                              const PendingInstall& pending,
                                              const registry::Registry& registry) {
    if (pending.entry_json.empty()) return;
    std::string path;
    try {
        path = registry::entry_from_json(component_id, pending.entry_json).path;
    } catch (const std::invalid_argument&) {
        return;  // the next start's recovery removes what nothing names
    }
    for (const auto& [id, entry] : registry.entries()) {
        if (entry.path == path || (entry.previous && entry.previous->path == path)) return;
    }
    store_.discard({path, true}, pending.dist_name, pending.version);
}

std::optional<std::string> ComponentLifecycle::dropin_blocked(const fs::path& file,
                                                              const dropin::FileVersion& version,
                                                              const std::string& component_id,
                                                              const std::string& sha256) {
    std::lock_guard<std::mutex> lifecycle(lifecycle_mutex_);
    auto q = store_.quarantine(component_id);
    if (!q || q->dropin_path != file.string()) return std::nullopt;
    if (version == q->dropin && q->sha256 == sha256) {
        return "drop-in " + file.string() + " not loaded: " + q->error +
               " (it is loaded again once the file changes)";
    }
    // Changed: the operator's way to try again.
    store_.lift_quarantine(component_id);
    const registry::Registry registry = this->registry();
    const registry::Entry* entry = registry.find(component_id);
    logger("dropin")->info("drop-in {} changed: {} is no longer quarantined", file.string(),
                           component_id);
    if (!entry || entry->version != q->version) return std::nullopt;
    registry::Entry enabled = *entry;
    enabled.enabled = true;
    registry::Registry updated = registry;
    updated.put(enabled);
    if (auto saved = save(updated); !saved) {
        logger("dropin")->error("cannot save the registry: {}", saved.error().message);
    }
    // Started here: the install that follows finds the same build and changes nothing.
    if (auto started = load_and_start(enabled); !started) {
        logger("dropin")->error("drop-in {}: {} did not start: {}", file.string(), component_id,
                                started.error().message);
    }
    sink_.changed();
    return std::nullopt;
}

void ComponentLifecycle::dropin_removed(const fs::path& file) {
    std::lock_guard<std::mutex> lifecycle(lifecycle_mutex_);
    for (const auto& [id, q] : store_.quarantines()) {
        if (q.dropin_path != file.string()) continue;
        store_.lift_quarantine(id);
        bool registered = false;
        {
            std::lock_guard<std::mutex> lock(state_mutex_);
            registered = registry_.find(id) != nullptr;
        }
        if (!registered) forget(id);
    }
}

}  // namespace lucid::host::components
