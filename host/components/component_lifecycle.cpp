// Boot, start/stop/restart, enable/disable, configure, states and queries of the lifecycle.
// Install and uninstall are in lifecycle_install.cpp, the crash quarantine in
// lifecycle_quarantine.cpp.
#include "components/component_lifecycle.hpp"

#include <algorithm>

#include "commands/command_dispatcher.hpp"
#include "common/bounded_parallel.hpp"
#include "common/logging.hpp"
#include "contract/payloads.hpp"

namespace lucid::host::components {

namespace {

const char* const kUnsupportedError =
    "a Python wheel of the earlier agent: this host cannot run it (uninstall it, or install a "
    "native build)";

}  // namespace

ComponentLifecycle::ComponentLifecycle(LifecycleSettings settings, ComponentStore& store,
                                       PluginRuntime& runtime, StatusSink& sink)
    : settings_(settings), store_(store), runtime_(runtime), sink_(sink) {
    if (!settings_.trust_dir.empty()) trust_.emplace(settings_.trust_dir);
}

std::vector<std::string> ComponentLifecycle::boot(const AnswerFn& answer) {
    std::lock_guard<std::mutex> lifecycle(lifecycle_mutex_);
    auto loaded = store_.load();
    std::vector<std::string> problems = std::move(loaded.problems);
    registry::Registry registry = std::move(loaded.registry);

    // The component that took the agent down, if any, does not get to do it again.
    bool changed = loaded.changed;
    const Blame blame = blame_deaths(registry, changed, problems);
    if (changed) {
        // A read-only or full data directory: serve the repaired registry all the same; the
        // repair is made again at the next start.
        if (auto saved = store_.save(registry); !saved) {
            problems.push_back("cannot save the repaired registry: " + saved.error().message);
        }
    }
    {
        std::lock_guard<std::mutex> lock(state_mutex_);
        registry_ = registry;
    }
    // An agent without floors yet (its first start, or a file an operator moved aside): what is
    // installed is what was committed.
    seed_floors(registry, problems);
    // Answered (recorded) before anything starts: a start that takes the agent down again must
    // not lose the answer, whose marker is consumed below.
    for (const auto& interrupted : blame.answers) {
        if (answer) answer(interrupted);
    }
    for (const auto& [id, status] : blame.unregistered) set_status(id, status);
    store_.consume_deaths();

    // The suspects of a death nobody could be blamed for first, one at a time: each runs its
    // start alone under its marker, so that another death counts against it only.
    std::vector<const registry::Entry*> to_start;
    std::mutex problems_mutex;
    const auto start_one = [&](const registry::Entry& entry) {
        if (auto started = load_and_start(entry); !started) {
            std::lock_guard<std::mutex> lock(problems_mutex);
            problems.push_back("component " + entry.component_id +
                               " did not start: " + started.error().message);
        }
    };
    for (const auto& id : blame.suspects) {
        if (const auto* entry = registry.find(id); entry && boot_decision(*entry)) {
            start_one(*entry);
        }
    }
    for (const auto& [id, entry] : registry.entries()) {
        if (std::find(blame.suspects.begin(), blame.suspects.end(), id) != blame.suspects.end()) {
            continue;
        }
        if (boot_decision(entry)) to_start.push_back(&entry);
    }
    // The others are independent: started in parallel (settings_.boot_parallelism at a time),
    // each under its own start marker, so that a death meanwhile makes all of those still
    // starting suspects of the next boot, which starts them alone.
    run_bounded(to_start.size(), settings_.boot_parallelism,
                [&](std::size_t i) { start_one(*to_start[i]); });
    sink_.changed();
    return problems;
}

bool ComponentLifecycle::boot_decision(const registry::Entry& entry) {
    const std::string& id = entry.component_id;
    if (auto signer = revoked_signer_locked(entry); signer && !revoked_error(entry)) {
        logger("components")->warn("{} {}", id, *signer);  // runs, reported (§8.14)
    }
    if (entry.kind == registry::EntryKind::python_wheel) {
        set_status(id, {ComponentState::unsupported, entry.version, kUnsupportedError});
    } else if (auto quarantine = quarantine_error(entry)) {
        set_status(id, {ComponentState::quarantined, entry.version, *quarantine});
    } else if (auto revoked = revoked_error(entry)) {
        logger("components")->error("{} {}: not started", id, *revoked);
        set_status(id, {ComponentState::failed, entry.version, *revoked});
    } else if (!entry.enabled) {
        set_status(id, {ComponentState::stopped, entry.version, ""});
    } else {
        return true;
    }
    return false;
}

void ComponentLifecycle::stop_all() {
    std::lock_guard<std::mutex> lifecycle(lifecycle_mutex_);
    std::vector<std::string> ids;
    {
        std::lock_guard<std::mutex> lock(state_mutex_);
        stopping_all_ = true;
        for (const auto& [id, status] : statuses_) ids.push_back(id);
    }
    for (const auto& id : ids) stop_plugin(id);
}

Status ComponentLifecycle::load_and_start(const registry::Entry& entry) {
    remember_isolation(entry);
    auto mapped = runtime_.map(entry.path, run_options(entry));
    if (!mapped) {
        set_status(entry.component_id,
                   {ComponentState::failed, entry.version, mapped.error().message});
        return mapped.error();
    }
    return start_mapped(entry, std::move(mapped.value()));
}

Status ComponentLifecycle::start_mapped(const registry::Entry& entry,
                                        PluginRuntime::Mapped mapped) {
    if (mapped.component_id != entry.component_id) {
        runtime_.discard(mapped.token);
        const std::string error = "the artifact declares component_id '" + mapped.component_id +
                                  "', not '" + entry.component_id + "'";
        set_status(entry.component_id, {ComponentState::failed, entry.version, error});
        return Error{Errc::invalid, error};
    }
    {
        // A new install or an upgrade is not in registry_ until it started: the plugin must
        // still read the config it is being started with.
        std::lock_guard<std::mutex> lock(state_mutex_);
        starting_configs_[entry.component_id] = entry.config_json;
    }
    mark_starting(entry);
    auto started = runtime_.start(mapped.token, entry.component_id);
    clear_starting(entry.component_id);
    {
        std::lock_guard<std::mutex> lock(state_mutex_);
        starting_configs_.erase(entry.component_id);
    }
    if (started) return started;
    // The runtime reported `stopped` as it unloaded; what the operator needs to see is why it
    // failed.
    set_status(entry.component_id,
               {ComponentState::failed, entry.version, started.error().message});
    return started;
}

bool ComponentLifecycle::stop_plugin(const std::string& component_id) {
    return runtime_.stop(component_id).restart_required;
}

bool ComponentLifecycle::healthy_for(const std::string& component_id,
                                     std::chrono::milliseconds window) {
    // Waits on status changes, not on time alone: a plugin reporting `failed` ends it at once.
    std::unique_lock<std::mutex> lock(state_mutex_);
    const auto failed = [&] {
        auto it = statuses_.find(component_id);
        return it == statuses_.end() || !is_loaded(it->second.state);
    };
    return !status_cv_.wait_for(lock, window, failed);
}

Outcome ComponentLifecycle::set_enabled(const std::string& component_id, bool enabled) {
    std::lock_guard<std::mutex> lifecycle(lifecycle_mutex_);
    registry::Registry registry = this->registry();
    const registry::Entry* entry = registry.find(component_id);
    if (!entry) return not_found(component_id);
    const bool lift = enabled && quarantine_error(*entry).has_value();
    registry::Entry changed = *entry;
    changed.enabled = enabled;
    registry.put(changed);
    if (auto saved = save(registry); !saved) {
        return Outcome::failed(Errc::io, "cannot save the registry: " + saved.error().message);
    }
    if (lift) {
        store_.lift_quarantine(component_id);
        set_status(component_id, {ComponentState::stopped, entry->version, ""});
    }
    sink_.changed();
    Outcome outcome;
    outcome.version = entry->version;
    return outcome;
}

Outcome ComponentLifecycle::stop(const std::string& component_id) {
    std::lock_guard<std::mutex> lifecycle(lifecycle_mutex_);
    const auto entry = registered(component_id);
    if (!entry) return not_found(component_id);
    const auto stopped = runtime_.stop(component_id);
    Outcome outcome;
    outcome.restart_required = stopped.restart_required;
    // Like a start of a running component: nothing to do is said, not hidden.
    outcome.noop = !stopped.was_running;
    if (stopped.was_running) {
        // A plugin left stuck in a call keeps the `failed` status (and why) it reported.
        if (!stopped.restart_required) {
            set_status(component_id, {ComponentState::stopped, entry->version, ""});
        }
        sink_.changed();
    }
    return outcome;
}

Outcome ComponentLifecycle::restart(const std::string& component_id) {
    std::lock_guard<std::mutex> lifecycle(lifecycle_mutex_);
    const auto entry = registered(component_id);
    if (!entry) return not_found(component_id);
    const auto stopped = runtime_.stop(component_id);
    if (stopped.was_running && !stopped.restart_required) {
        set_status(component_id, {ComponentState::stopped, entry->version, ""});
    }
    Outcome outcome = start_locked(*entry);
    outcome.restart_required = stopped.restart_required;
    return outcome;
}

Outcome ComponentLifecycle::start(const std::string& component_id) {
    std::lock_guard<std::mutex> lifecycle(lifecycle_mutex_);
    const auto entry = registered(component_id);
    if (!entry) return not_found(component_id);
    return start_locked(*entry);
}

Outcome ComponentLifecycle::start_locked(const registry::Entry& entry) {
    const std::string& cid = entry.component_id;
    if (entry.kind == registry::EntryKind::python_wheel) {
        return Outcome::failed(Errc::refused,
                               "component " + cid + " is unsupported: " + kUnsupportedError);
    }
    if (auto quarantine = quarantine_error(entry)) {
        return Outcome::failed(Errc::refused, "component " + cid + " is quarantined (" +
                                                  *quarantine + "); enable it to try again");
    }
    if (auto revoked = revoked_error(entry)) {
        return Outcome::failed(Errc::refused, "component " + cid + " is " + *revoked);
    }
    Outcome outcome;
    outcome.version = entry.version;
    if (runtime_.running(cid)) {
        outcome.noop = true;
        return outcome;
    }
    const auto started = load_and_start(entry);
    sink_.changed();
    if (!started) return Outcome::failed(started.error().code, started.error().message);
    return outcome;
}

Outcome ComponentLifecycle::configure(const std::string& component_id,
                                      const rapidjson::Value& set) {
    std::lock_guard<std::mutex> lifecycle(lifecycle_mutex_);
    const auto entry = registered(component_id);
    if (!entry) return not_found(component_id);
    if (!runtime_.running(component_id)) {
        return Outcome::failed(Errc::refused, "component not running: " + component_id);
    }
    // The new config is the stored one with the `set` keys replaced: the plugin always sees,
    // validates and persists a whole config.
    rapidjson::Document merged;
    merged.Parse(entry->config_json.c_str());
    if (merged.HasParseError() || !merged.IsObject()) merged.SetObject();
    for (const auto& member : set.GetObject()) {
        rapidjson::Value key(member.name, merged.GetAllocator());
        rapidjson::Value value(member.value, merged.GetAllocator());
        merged.RemoveMember(key);
        merged.AddMember(key, value, merged.GetAllocator());
    }
    const auto proposed = runtime_.propose_config(component_id, contract::to_json(merged));
    if (!proposed) return Outcome::failed(proposed.error().code, proposed.error().message);
    Outcome outcome;
    outcome.version = entry->version;
    return outcome;
}

Outcome ComponentLifecycle::set_config(const std::string& component_id,
                                       const std::string& config_json) {
    std::lock_guard<std::mutex> lifecycle(lifecycle_mutex_);
    const auto entry = registered(component_id);
    if (!entry) return not_found(component_id);
    Outcome outcome;
    outcome.version = entry->version;
    if (runtime_.running(component_id)) {
        const auto proposed = runtime_.propose_config(component_id, config_json);
        if (!proposed) return Outcome::failed(proposed.error().code, proposed.error().message);
        return outcome;
    }
    // Nobody to validate it now: the plugin's start does, as with any stored config.
    if (Status persisted = persist_config(component_id, config_json); !persisted) {
        return Outcome::failed(persisted.error().code, persisted.error().message);
    }
    return outcome;
}

// ---- states -----------------------------------------------------------------------------------

void ComponentLifecycle::report_status(const std::string& component_id,
                                       const ComponentStatus& status) {
    set_status(component_id, status);
    sink_.changed();
}

Isolation ComponentLifecycle::isolation_of(const registry::Entry& entry) const {
    return parse_isolation(entry.isolation).value_or(settings_.default_isolation);
}

void ComponentLifecycle::remember_isolation(const registry::Entry& entry) {
    std::lock_guard<std::mutex> lock(state_mutex_);
    isolations_[entry.component_id] = isolation_of(entry);
    if (entry.demoted.empty()) {
        demotions_.erase(entry.component_id);
    } else {
        demotions_[entry.component_id] = entry.demoted;
    }
}

RunOptions ComponentLifecycle::run_options(const registry::Entry& entry) const {
    return RunOptions{isolation_of(entry), entry.limits, entry.run_as};
}

void ComponentLifecycle::publish_views_in_order(
    const std::function<void(const std::vector<ComponentView>&)>& publish) {
    std::lock_guard<std::mutex> order(status_order_mutex_);
    publish(views());
}

void ComponentLifecycle::set_status(const std::string& component_id, ComponentStatus status) {
    std::lock_guard<std::mutex> order(status_order_mutex_);
    {
        std::lock_guard<std::mutex> lock(state_mutex_);
        if (status.isolation.empty()) {
            auto it = isolations_.find(component_id);
            status.isolation =
                to_string(it != isolations_.end() ? it->second : settings_.default_isolation);
        }
        if (auto it = demotions_.find(component_id); it != demotions_.end()) {
            status.demoted = it->second;
        }
        status.warning.clear();
        if (const auto* entry = registry_.find(component_id); entry && !revoked_fail_) {
            status.warning = revoked_signer(*entry).value_or("");
        }
        statuses_[component_id] = status;
    }
    status_cv_.notify_all();
    sink_.status(component_id, status);
}

void ComponentLifecycle::forget(const std::string& component_id) {
    {
        std::lock_guard<std::mutex> lock(state_mutex_);
        statuses_.erase(component_id);
    }
    sink_.forgotten(component_id);
}

Status ComponentLifecycle::save(const registry::Registry& registry) {
    auto saved = store_.save(registry);
    if (saved) {
        std::lock_guard<std::mutex> lock(state_mutex_);
        registry_ = registry;
    }
    return saved;
}

std::string ComponentLifecycle::config_of(const std::string& component_id) const {
    std::lock_guard<std::mutex> lock(state_mutex_);
    if (auto it = starting_configs_.find(component_id); it != starting_configs_.end()) {
        return it->second;
    }
    const auto* entry = registry_.find(component_id);
    return entry ? entry->config_json : "{}";
}

Status ComponentLifecycle::persist_config(const std::string& component_id,
                                          const std::string& config_json) {
    // Runs on the plugin's worker while configure() holds the lifecycle mutex: only the
    // registry file's own lock and state_mutex_ are taken here.
    auto saved = store_.update_config(component_id, config_json);
    if (!saved) {
        logger("components")
            ->error("cannot persist the config of {}: {}", component_id, saved.error().message);
        return saved.error();
    }
    std::string config;
    {
        std::lock_guard<std::mutex> lock(state_mutex_);
        registry_ = std::move(saved.value());
        const auto* entry = registry_.find(component_id);
        if (!entry) return done();
        config = entry->config_json;
    }
    sink_.config(component_id, config);
    sink_.changed();  // core/components carries the config too
    return done();
}

// ---- queries ----------------------------------------------------------------------------------

std::optional<registry::Entry> ComponentLifecycle::registered(
    const std::string& component_id) const {
    std::lock_guard<std::mutex> lock(state_mutex_);
    const auto* entry = registry_.find(component_id);
    return entry ? std::optional<registry::Entry>(*entry) : std::nullopt;
}

bool ComponentLifecycle::shown(const std::string& component_id) const {
    std::lock_guard<std::mutex> lock(state_mutex_);
    return statuses_.count(component_id) > 0;
}

Outcome ComponentLifecycle::not_found(const std::string& component_id) {
    return Outcome::failed(Errc::not_found, "component not found: " + component_id);
}

registry::Registry ComponentLifecycle::registry() const {
    std::lock_guard<std::mutex> lock(state_mutex_);
    return registry_;
}

std::string ComponentLifecycle::installed_version(const std::string& component_id) const {
    std::lock_guard<std::mutex> lock(state_mutex_);
    const auto* entry = registry_.find(component_id);
    return entry ? entry->version : "";
}

std::vector<contract::ComponentSnapshot> ComponentLifecycle::snapshots() const {
    // Read before the state lock (plugin workers take it): a file read, however small.
    install::Floors floors;
    if (trust_) {
        if (auto loaded = trust_->load()) floors = std::move(loaded.value());
    }
    std::lock_guard<std::mutex> lock(state_mutex_);
    std::vector<contract::ComponentSnapshot> out;
    for (const auto& [id, entry] : registry_.entries()) {
        contract::ComponentSnapshot snapshot{entry, ComponentState::stopped, "", "", 0, "", ""};
        snapshot.isolation = to_string(isolation_of(entry));
        if (auto floor = floors.find(entry.dist_name); floor != floors.end()) {
            snapshot.floor = floor->second.effective();
        }
        if (auto it = statuses_.find(id); it != statuses_.end()) {
            snapshot.state = it->second.state;
            snapshot.error = it->second.error;
            snapshot.restarts = it->second.restarts;
            snapshot.warning = it->second.warning;
        }
        out.push_back(std::move(snapshot));
    }
    return out;
}

std::vector<ComponentView> ComponentLifecycle::views() const {
    std::lock_guard<std::mutex> lock(state_mutex_);
    std::vector<ComponentView> out;
    for (const auto& [id, entry] : registry_.entries()) {
        ComponentView view{id, {ComponentState::stopped, entry.version, ""}, entry.config_json};
        if (auto it = statuses_.find(id); it != statuses_.end()) view.status = it->second;
        out.push_back(std::move(view));
    }
    // A first install that took the agent down is failed without a registry entry; its status,
    // set at boot before any connection, must reach the broker too.
    for (const auto& [id, status] : statuses_) {
        if (!registry_.find(id)) out.push_back({id, status, std::nullopt});
    }
    return out;
}

std::string ComponentLifecycle::not_run_error(const std::string& component_id) const {
    std::lock_guard<std::mutex> lock(state_mutex_);
    if (stopping_all_) return commands::CommandDispatcher::kShuttingDown;
    if (registry_.find(component_id) || statuses_.count(component_id)) {
        return "component not running: " + component_id;
    }
    return "component not found: " + component_id;
}

void ComponentLifecycle::if_unknown(const std::string& component_id,
                                    const std::function<void()>& fn) const {
    std::lock_guard<std::mutex> lock(state_mutex_);
    if (registry_.find(component_id) || statuses_.count(component_id)) return;
    fn();
}

}  // namespace lucid::host::components
