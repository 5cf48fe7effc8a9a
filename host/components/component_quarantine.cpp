// ComponentManager members about components that take the agent down (README "Crash
// quarantine"). At boot, the last death is blamed on the component a fatal signal was recorded
// for (plugin/crash_record.hpp), else on a component during whose start the agent died
// `start_deaths_before_quarantine` times in a row. The build blamed does not run again: a
// registered one is quarantined (disabled, status `failed` with the reason) until it is enabled
// or another build is installed; an install in progress is answered ok:false (rolled_back when
// another version was installed, which runs again); a drop-in file is left in place and not
// loaded again until it changes. A death nobody can be blamed for only counts: the components
// that were starting (the suspects) are started first, one at a time, each alone under its
// start marker, so that a second death is theirs to count.
#include <rapidjson/document.h>

#include "common/file_modes.hpp"
#include "common/logging.hpp"
#include "components/audit_log.hpp"
#include "components/component_channel.hpp"
#include "components/component_manager.hpp"
#include "lucid/registry/identifiers.hpp"
#include "plugin/crash_record.hpp"

namespace lucid::host::components {
namespace fs = std::filesystem;

namespace {

const char* const kLegacyQuarantineError =
    "quarantined: the agent stopped while this component was starting; enable or re-install it "
    "to try again";

// A marker file of the crash-safety bookkeeping. Atomic: a marker cut short by a kill would
// name no file. Not fatal when the disk refuses (full, read-only): the operation it guards is
// not worth failing, only its attribution after a crash is lost.
void write_marker(const fs::path& marker, const std::string& content) {
    try {
        registry::make_directories(marker.parent_path());
        registry::write_file_atomically(marker, content, registry::real_file_ops(),
                                        registry::kDataFileMode);
    } catch (const std::exception& e) {
        logger("components")->warn("cannot write {}: {}", marker.string(), e.what());
    }
}

// The markers of a directory by component id (temporaries of interrupted writes, whose names
// are no identifiers, are left to ComponentFiles::recover).
std::map<std::string, std::string> markers_in(const fs::path& dir) {
    std::map<std::string, std::string> out;
    std::error_code ec;
    for (const auto& file : fs::directory_iterator(dir, ec)) {
        const std::string id = file.path().filename().string();
        if (registry::is_valid_identifier(id)) out[id] = registry::read_file(file.path());
    }
    return out;
}

}  // namespace

void ComponentManager::mark_starting(const registry::Entry& entry) {
    StartMarker marker{entry.path, entry.version, 0};
    if (auto it = start_deaths_.find(entry.component_id);
        it != start_deaths_.end() && it->second.first == entry.version) {
        marker.deaths = it->second.second;
    }
    write_marker(settings_.data_dir / "starting" / entry.component_id, to_json(marker));
}

void ComponentManager::clear_starting(const std::string& component_id) {
    std::error_code ec;
    fs::remove(settings_.data_dir / "starting" / component_id, ec);
    start_deaths_.erase(component_id);  // it started: the count begins again
}

ComponentManager::InstallingGuard::~InstallingGuard() {
    std::error_code ec;
    fs::remove(file, ec);
}

std::unique_ptr<ComponentManager::InstallingGuard> ComponentManager::mark_installing(
    const std::string& request_id, const registry::Entry& entry) {
    auto guard = std::make_unique<InstallingGuard>();
    guard->file = settings_.data_dir / "installing" / entry.component_id;
    write_marker(guard->file, to_json(PendingInstall{request_id, entry.dist_name, entry.version,
                                                     entry.sha256, entry.source_json}));
    return guard;
}

std::optional<Quarantine> ComponentManager::read_quarantine(const std::string& component_id) const {
    const fs::path file = settings_.data_dir / "quarantine" / component_id;
    std::error_code ec;
    if (!fs::exists(file, ec)) return std::nullopt;
    return parse_quarantine(registry::read_file(file), kLegacyQuarantineError);
}

std::optional<std::string> ComponentManager::quarantine_error(const registry::Entry& entry) const {
    auto q = read_quarantine(entry.component_id);
    if (!q) return std::nullopt;
    // A quarantine of another build (an upgrade that crashed, a drop-in kept out) does not
    // stop the registered one.
    if (!q->version.empty() &&
        (q->version != entry.version || (!q->sha256.empty() && q->sha256 != entry.sha256))) {
        return std::nullopt;
    }
    return q->error;
}

void ComponentManager::set_quarantine(const std::string& component_id, const Quarantine& q) {
    write_marker(settings_.data_dir / "quarantine" / component_id, to_json(q));
}

void ComponentManager::lift_quarantine(const std::string& component_id) {
    std::error_code ec;
    fs::remove(settings_.data_dir / "quarantine" / component_id, ec);
}

ComponentManager::Blame ComponentManager::blame_deaths(registry::Registry& registry, bool& changed,
                                                       std::vector<std::string>& problems) {
    Blame blame;
    struct Culprit {
        std::string version;
        std::string error;
    };
    std::map<std::string, Culprit> culprits;

    const fs::path crash_file = crash::record_path(settings_.data_dir);
    std::error_code ec;
    if (fs::exists(crash_file, ec)) {
        blame.consumed.push_back(crash_file);
        if (auto crash = crash::read_crash_record(crash_file)) {
            culprits[crash->component_id] = {crash->version, crash::crash_error(*crash)};
            problems.push_back("component " + crash->component_id + " " + crash->version +
                               " took the agent down: " + crash->signal + " in " + crash->callback);
        } else {
            problems.push_back("ignoring " + crash_file.string() + ": not a whole crash record");
        }
    }

    // Deaths while starting count only when no plugin was caught crashing: a crash explains
    // the death, whoever else was starting then.
    const fs::path starting_dir = settings_.data_dir / "starting";
    const int limit = std::max(1, settings_.start_deaths_before_quarantine);
    for (const auto& [id, text] : markers_in(starting_dir)) {
        blame.consumed.push_back(starting_dir / id);
        const auto marker = parse_start_marker(text);
        if (!marker || !culprits.empty()) continue;
        const int deaths = marker->deaths + 1;
        if (deaths >= limit) {
            culprits[id] = {marker->version,
                            "quarantined: the agent died " + std::to_string(deaths) +
                                (deaths == 1 ? " time" : " times") +
                                " in a row while this component was starting; enable or "
                                "re-install it to try again"};
            problems.push_back("component " + id + " " + marker->version + ": " +
                               culprits[id].error);
        } else {
            start_deaths_[id] = {marker->version, deaths};
            blame.suspects.push_back(id);
            problems.push_back("component " + id + " " + marker->version +
                               ": the agent stopped while it was starting (" +
                               std::to_string(deaths) + " of " + std::to_string(limit) +
                               " before quarantine); starting it first, alone");
        }
    }

    const fs::path installing_dir = settings_.data_dir / "installing";
    std::map<std::string, PendingInstall> pending;
    for (const auto& [id, text] : markers_in(installing_dir)) {
        blame.consumed.push_back(installing_dir / id);
        if (auto p = parse_pending_install(text)) pending[id] = *p;
    }

    for (const auto& [id, culprit] : culprits) {
        const registry::Entry* entry = registry.find(id);
        const bool registered = entry && entry->kind == registry::EntryKind::native &&
                                entry->version == culprit.version;
        auto p = pending.find(id);
        const bool installing = p != pending.end() && p->second.version == culprit.version;
        Quarantine q{culprit.error, culprit.version, "", "", {}};
        if (registered) {
            q.sha256 = entry->sha256;
            q.dropin_path = dropin_file_of(*entry).string();
        } else if (installing) {
            q.sha256 = p->second.sha256;
            registry::Entry installing_entry;
            installing_entry.source_json = p->second.source_json;
            q.dropin_path = dropin_file_of(installing_entry).string();
        }
        if (!q.dropin_path.empty()) q.dropin = dropin::file_version(q.dropin_path);
        // The registered build stays out until enabled; a drop-in file until it changes. An
        // install over MQTT is answered and not retried by itself: nothing more to keep.
        if (registered || !q.dropin_path.empty()) set_quarantine(id, q);
        if (registered && entry->enabled) {
            registry::Entry disabled = *entry;
            disabled.enabled = false;
            registry.put(disabled);
            changed = true;
        }
        if (installing) {
            const bool rolled_back = entry && !registered;
            blame.answers.push_back(
                {id, p->second, culprit.error, rolled_back, rolled_back ? entry->version : ""});
            problems.push_back("the install of " + id + " " + culprit.version +
                               " failed: " + culprit.error +
                               (rolled_back ? "; version " + entry->version + " runs again" : ""));
        }
        if (!entry) {
            blame.unregistered[id] = {ComponentState::quarantined, culprit.version, culprit.error};
        }
    }
    // Drop-in files kept out by an earlier boot, of components not registered: still failed.
    for (const auto& [id, text] : markers_in(settings_.data_dir / "quarantine")) {
        if (registry.find(id) || blame.unregistered.count(id)) continue;
        if (auto q = parse_quarantine(text, kLegacyQuarantineError); q && !q->dropin_path.empty()) {
            blame.unregistered[id] = {ComponentState::quarantined, q->version, q->error};
        }
    }
    return blame;
}

void ComponentManager::finish_blame(const Blame& blame) {
    commands::CommandSpec install;
    install.name = "install";
    install.result_topic = mqtt_.topics.at(contract::topics::kInstall.result);
    for (const auto& answer : blame.answers) {
        if (answer.pending.request_id.empty()) continue;  // a drop-in file: nobody asked
        contract::Result result(answer.pending.request_id, now());
        result.set("component_id", answer.component_id);
        result.set("dist_name", answer.pending.dist_name);
        result.set("version", answer.pending.version);
        result.set("sha256", answer.pending.sha256);
        result.set("noop", false);
        result.set("rolled_back", answer.rolled_back);
        result.set("restart_required", false);
        result.fail(answer.error);
        audit({install_operation(answer.from, answer.pending.version), answer.component_id,
               answer.pending.request_id, "", answer.from, answer.pending.version},
              result);
        // Recorded first (a redelivered copy of the install gets this answer, never a rerun),
        // then queued until the session connects.
        mqtt_.commands.finish(install, answer.pending.request_id,
                              commands::CommandReply(std::move(result)));
    }
    for (const auto& [id, status] : blame.unregistered) set_status(id, status);
    std::error_code ec;
    for (const auto& file : blame.consumed) fs::remove(file, ec);
}

bool ComponentManager::dropin_blocked(const fs::path& file, const dropin::FileVersion& id,
                                      const std::string& component_id, const std::string& sha256) {
    std::lock_guard<std::mutex> lifecycle(lifecycle_mutex_);
    auto q = read_quarantine(component_id);
    if (!q || q->dropin_path != file.string()) return false;
    if (id == q->dropin && q->sha256 == sha256) {
        const std::string why = "drop-in " + file.string() + " not loaded: " + q->error +
                                " (it is loaded again once the file changes)";
        if (dropin_log_.first_time(file, why)) logger("dropin")->warn("{}", why);
        return true;
    }
    // Changed: the operator's way to try again.
    lift_quarantine(component_id);
    const registry::Registry registry = registry_copy();
    const registry::Entry* entry = registry.find(component_id);
    logger("dropin")->info("drop-in {} changed: {} is no longer quarantined", file.string(),
                           component_id);
    if (!entry || entry->version != q->version) return false;
    registry::Entry enabled = *entry;
    enabled.enabled = true;
    try {
        registry::Registry updated = registry;
        updated.put(enabled);
        save_registry(updated);
    } catch (const std::exception& e) {
        logger("dropin")->error("cannot save the registry: {}", e.what());
    }
    // Started here: the install that follows finds the same build and changes nothing.
    if (auto error = load_and_start(enabled); !error.empty()) {
        logger("dropin")->error("drop-in {}: {} did not start: {}", file.string(), component_id,
                                error);
    }
    if (changed_) changed_();
    return false;
}

void ComponentManager::dropin_quarantine_removed(const fs::path& file) {
    std::lock_guard<std::mutex> lifecycle(lifecycle_mutex_);
    for (const auto& [id, text] : markers_in(settings_.data_dir / "quarantine")) {
        auto q = parse_quarantine(text, kLegacyQuarantineError);
        if (!q || q->dropin_path != file.string()) continue;
        lift_quarantine(id);
        bool registered = false;
        {
            std::lock_guard<std::mutex> lock(state_mutex_);
            registered = registry_.find(id) != nullptr;
        }
        if (!registered) forget_component(id);
    }
}

}  // namespace lucid::host::components
