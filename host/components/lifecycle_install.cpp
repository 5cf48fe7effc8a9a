// Install (with upgrade and rollback) and uninstall of the component lifecycle.
#include "common/logging.hpp"
#include "components/component_lifecycle.hpp"
#include "contract/timestamp.hpp"
#include "install/component_files.hpp"
#include "lucid/registry/dist_name.hpp"
#include "lucid/registry/echoed_value.hpp"
#include "lucid/registry/identifiers.hpp"
#include "lucid/registry/registry_json.hpp"

namespace lucid::host::components {
namespace fs = std::filesystem;

namespace {

bool same_artifact(const registry::Entry& entry, const std::string& dist,
                   const std::string& version, const std::string& sha256) {
    return entry.kind == registry::EntryKind::native && entry.dist_name == dist &&
           entry.version == version && entry.sha256 == sha256;
}

// Another build (sha256) of a version the entry runs or keeps for rollback: refused whatever the
// artifact's file name, before anything is placed (ComponentFiles::place checks the folder too).
bool other_build_of_kept_version(const registry::Entry& entry, const std::string& dist,
                                 const std::string& version, const std::string& sha256) {
    if (entry.kind != registry::EntryKind::native || entry.dist_name != dist) return false;
    if (entry.version == version) return entry.sha256 != sha256;
    return entry.previous && entry.previous->version == version && entry.previous->sha256 != sha256;
}

Outcome dist_taken(const std::string& dist, const std::string& owner) {
    return Outcome::failed(
        Errc::conflict,
        "dist_name '" + dist + "' is already installed as component '" + owner + "'");
}

}  // namespace

std::optional<Error> ComponentLifecycle::floor_refusal(const std::string& dist,
                                                       const std::string& version,
                                                       const install::FloorContext& floor) const {
    if (!trust_) return std::nullopt;
    return trust_->check(dist, version, floor);
}

void ComponentLifecycle::commit_floor(const std::string& component_id, const std::string& dist,
                                      const std::string& version,
                                      const install::FloorContext& floor) {
    if (!trust_) return;
    if (Status committed = trust_->commit(dist, version, floor); !committed) {
        // It runs and is registered: undoing a healthy install because the floor could not be
        // written would be worse than a floor that stays where it was. Said loudly.
        logger("components")
            ->error("{} {} {} is installed, but its version floor was not raised: {}", component_id,
                    dist, version, committed.error().message);
    }
}

void ComponentLifecycle::seed_floors(const registry::Registry& registry,
                                     std::vector<std::string>& problems) {
    if (!trust_) return;
    std::map<std::string, std::string> installed;
    for (const auto& [id, entry] : registry.entries()) {
        if (entry.kind == registry::EntryKind::native && !entry.dist_name.empty()) {
            installed[entry.dist_name] = entry.version;
        }
    }
    auto seeded = trust_->seed_if_absent(installed);
    if (!seeded) {
        problems.push_back(seeded.error().message);
    } else if (seeded.value()) {
        std::string floors;
        for (const auto& [dist, version] : installed) {
            floors += (floors.empty() ? "" : ", ") + dist + " " + version;
        }
        logger("components")
            ->info("trust state {} seeded from what is installed: {}", trust_->path().string(),
                   floors.empty() ? std::string("no floors") : floors);
    }
}

std::optional<Outcome> ComponentLifecycle::decide_install(const std::string& component_id,
                                                          const std::string& dist,
                                                          const std::string& version,
                                                          const std::string& sha256,
                                                          const install::FloorContext& floor) {
    const registry::Registry registry = this->registry();
    if (const auto* entry = registry.find(component_id)) {
        // The same build installed again on purpose lifts its quarantine (contract §4.1); one
        // whose signer is revoked is checked again (a new signature vouches for it anew).
        if (same_artifact(*entry, dist, version, sha256) && !quarantine_error(*entry) &&
            !revoked_signer_locked(*entry)) {
            Outcome noop;
            noop.noop = true;
            return noop;
        }
        if (other_build_of_kept_version(*entry, dist, version, sha256)) {
            return Outcome::failed(Errc::conflict,
                                   install::ComponentFiles::different_build_error(dist, version));
        }
    }
    if (const auto* owner = registry.find_by_dist(dist);
        owner && owner->component_id != component_id) {
        return dist_taken(dist, owner->component_id);
    }
    // Refused before anything is downloaded; a trust state that cannot be read is the
    // install's own check to report (after staging, as the other disk errors are).
    if (auto refused = floor_refusal(dist, version, floor);
        refused && refused->code == Errc::refused) {
        return Outcome::failed(Errc::refused, refused->message);
    }
    return std::nullopt;
}

Outcome ComponentLifecycle::install(const InstallOrder& order) {
    const std::string& cid = order.component_id;
    const StagedFile& artifact = order.artifact;
    const std::string& dist = artifact.dist_name;
    const std::string& version = artifact.version;

    std::lock_guard<std::mutex> lifecycle(lifecycle_mutex_);
    // A key revoked while this install was downloading or being checked (its policy is the one
    // it started with): refused here, under the lock apply_revocations() takes too.
    if (auto revoked = revoked_key_error(artifact.signed_by, artifact.signer_file)) {
        return Outcome::failed(Errc::refused, *revoked);
    }
    registry::Registry registry = this->registry();
    const registry::Entry* existing_ptr = registry.find(cid);
    const std::optional<registry::Entry> existing =
        existing_ptr ? std::optional<registry::Entry>(*existing_ptr) : std::nullopt;
    // The build kept out by a quarantine: installing it again on purpose lifts that (contract
    // §4.1), and it runs enabled again, here and at the next boot.
    const bool was_quarantined = existing && quarantine_error(*existing);
    if (existing && same_artifact(*existing, dist, version, artifact.sha256) && !was_quarantined &&
        revoked_signer_locked(*existing)) {
        // The same bytes under a signature by a key not revoked: the entry records that signer,
        // and a component kept out for its old one runs again.
        return resign(*existing, artifact.signed_by);
    }
    if (existing && same_artifact(*existing, dist, version, artifact.sha256) && !was_quarantined) {
        // The same build with other settings: they apply as configure would (never ignored).
        if (order.isolation || order.limits || order.run_as) {
            return set_isolation_locked(cid, order.isolation, order.limits, order.run_as);
        }
        Outcome noop;
        noop.noop = true;
        return noop;
    }
    // Checked again under the lock: a drop-in never passed decide_install(), and another
    // install may have taken the dist since.
    if (const auto* owner = registry.find_by_dist(dist); owner && owner->component_id != cid) {
        return dist_taken(dist, owner->component_id);
    }
    // Under the lock too: the drop-in side checked before staging, an MQTT install may have won.
    const Channel channel = channel_of_source(order.source_json);
    if (existing && channel == Channel::dropin) {
        if (auto why =
                dropin_yields_to(*existing, version, dropin_file_of_source(order.source_json))) {
            return Outcome::failed(Errc::conflict, *why);
        }
    }
    if (existing && other_build_of_kept_version(*existing, dist, version, artifact.sha256)) {
        return Outcome::failed(Errc::conflict,
                               install::ComponentFiles::different_build_error(dist, version));
    }

    // Under the lock, for every channel (MQTT, drop-in, desired state): not below the floor
    // without permission. The automatic rollback of a failed upgrade never comes here.
    if (auto refused = floor_refusal(dist, version, order.floor)) {
        return Outcome::failed(refused->code, refused->message);
    }

    const std::string isolation = order.isolation
                                      ? to_string(*order.isolation)
                                      : (existing ? existing->isolation : std::string());
    const registry::RunAs run_as =
        order.run_as ? *order.run_as : (existing ? existing->run_as : registry::RunAs{});
    {  // Refused before the file is placed: nothing of it stays behind.
        registry::Entry planned;
        planned.component_id = cid;
        planned.isolation = isolation;
        planned.run_as = run_as;
        if (auto why = run_as_problem(planned)) return Outcome::failed(Errc::refused, *why);
    }

    auto placed = store_.place(artifact.file, dist, version, artifact.file.filename().string(),
                               artifact.sha256);
    if (!placed) return Outcome::failed(placed.error().code, placed.error().message);

    registry::Entry entry;
    entry.component_id = cid;
    entry.dist_name = dist;
    entry.version = version;
    entry.sha256 = artifact.sha256;
    entry.path = placed.value().path.string();
    entry.source_json = order.source_json;
    entry.config_json =
        order.config_json ? *order.config_json : (existing ? existing->config_json : "{}");
    entry.installed_at = contract::utc_timestamp(std::chrono::system_clock::now());
    entry.signed_by = artifact.signed_by;
    entry.isolation = isolation;
    entry.run_as = run_as;
    entry.limits =
        order.limits ? *order.limits : (existing ? existing->limits : registry::Limits{});
    // The operator choosing an isolation overrides the agent's own move (a demotion).
    entry.demoted =
        order.isolation ? std::string() : (existing ? existing->demoted : std::string());
    // Another version: a reinstall of the same one (refused above when its build differs) has
    // nothing to roll back to and never says it rolled back.
    const bool upgrade = existing && existing->kind == registry::EntryKind::native &&
                         (existing->version != version || existing->dist_name != dist);
    if (upgrade) {
        entry.enabled = existing->enabled || was_quarantined;
        entry.previous =
            registry::PreviousVersion{existing->version, existing->sha256, existing->path};
    } else if (existing) {
        entry.previous = existing->previous;  // the same version again keeps its rollback
    }
    // A new build, or the same one installed again on purpose: whatever kept it out is lifted.
    store_.lift_quarantine(cid);
    // Until this install is answered: if its plugin takes the agent down, the next start
    // answers it (lifecycle_quarantine.cpp).
    store_.mark_installing(
        cid, PendingInstall{order.request_id, entry.dist_name, entry.version, entry.sha256,
                            entry.source_json, registry::entry_to_json(entry)});
    struct ClearInstalling {
        ComponentStore& store;
        const std::string& cid;
        ~ClearInstalling() { store.clear_installing(cid); }
    } clear_installing{store_, cid};

    Outcome outcome;
    outcome.dist_name = dist;
    outcome.version = version;
    // The new library is mapped (no plugin code runs) before the old one is stopped: a file that
    // does not even load never interrupts the running version.
    remember_isolation(entry);
    auto mapped = runtime_.map(entry.path, run_options(entry));
    if (!mapped) {
        store_.discard(placed.value(), dist, version);
        outcome.rolled_back = upgrade;
        outcome.error = mapped.error();
        return outcome;
    }

    const bool was_running = upgrade && runtime_.running(cid);
    outcome.restart_required = was_running && runtime_.stop(cid).restart_required;
    auto started = start_mapped(entry, std::move(mapped.value()));
    if (started && upgrade && !healthy_for(cid, settings_.health_window)) {
        std::lock_guard<std::mutex> lock(state_mutex_);
        started = Error{Errc::plugin,
                        "the new version failed right after starting: " + statuses_[cid].error};
    }
    if (!started) {
        std::string error = started.error().message;
        runtime_.stop(cid);
        store_.discard(placed.value(), dist, version);
        if (upgrade) {
            outcome.rolled_back = true;
            if (was_running) {
                if (auto again = load_and_start(*existing); !again) {
                    error += "; the previous version " + existing->version +
                             " did not start again: " + again.error().message;
                }
            } else {
                set_status(cid, {ComponentState::stopped, existing->version, ""});
            }
        } else if (!existing) {
            // Nothing was installed: the answer says why, no failed status stays behind (an
            // operator could neither uninstall nor restart such a ghost).
            forget(cid);
        }
        sink_.changed();
        outcome.error = Error{started.error().code, error};
        return outcome;
    }

    registry.put(entry);
    if (auto saved = save(registry); !saved) {
        // Without a registry entry the new version would vanish at the next boot: undo it now,
        // files and published status included, so that nothing is left half-installed.
        runtime_.stop(cid);
        store_.discard(placed.value(), dist, version);
        if (was_running) {
            load_and_start(*existing);
        } else if (upgrade) {
            set_status(cid, {ComponentState::stopped, existing->version, ""});
        } else if (!existing) {
            forget(cid);
        }
        outcome.rolled_back = upgrade;
        sink_.changed();
        outcome.error = Error{Errc::io, "cannot save the registry: " + saved.error().message};
        return outcome;
    }
    // Keep exactly one version for rollback: the one just replaced.
    if (upgrade && existing->previous && existing->previous->version != version &&
        existing->previous->version != existing->version) {
        store_.remove_version(dist, existing->previous->version);
    }
    // MQTT or the desired state took a drop-in component over: its file must not take it back
    // at the next start.
    if (existing && channel != Channel::dropin && owner_of(*existing) == Channel::dropin) {
        set_aside(dropin_file_of(*existing), "superseded", cid);
    }
    // Installed and past its health window: committed, the dist's floor follows.
    commit_floor(cid, dist, version, order.floor);
    restamp_warning(cid);  // its status was set before the entry naming its signer was saved
    sink_.config(cid, entry.config_json);
    sink_.changed();
    return outcome;
}

Outcome ComponentLifecycle::uninstall(const std::string& component_id, Channel channel,
                                      const std::optional<std::string>& dist_hint) {
    const std::string& cid = component_id;
    std::lock_guard<std::mutex> lifecycle(lifecycle_mutex_);
    registry::Registry registry = this->registry();
    const registry::Entry* found = registry.find(cid);
    if (!found) {
        // A drop-in file kept out after it crashed is not registered, but its failed status is
        // shown: uninstalling the component clears that too (the file stays, kept out).
        if (store_.quarantine(cid) || shown(cid)) forget(cid);
        Outcome noop;
        noop.noop = true;
        return noop;
    }
    const registry::Entry entry = *found;

    std::string dist = entry.dist_name;
    if (dist.empty()) {
        if (!dist_hint || dist_hint->empty()) {
            return Outcome::failed(
                Errc::invalid,
                "registry missing dist_name for component; provide dist_name in uninstall "
                "payload for migration");
        }
        dist = registry::normalize_dist_name(*dist_hint);
        if (!registry::is_valid_identifier(dist)) {
            return Outcome::failed(
                Errc::invalid,
                "validation_error: dist_name '" + registry::echoed_value(dist) + "' is invalid");
        }
    }
    Outcome outcome;
    outcome.dist_name = dist;
    outcome.version = entry.version;

    const auto stopped = runtime_.stop(cid);
    registry.erase(cid);
    // Before deleting: a crash now leaves only orphan files.
    if (auto saved = save(registry); !saved) {
        // Still installed: it runs again if it ran (a stopped one stays stopped).
        if (stopped.was_running) load_and_start(entry);
        outcome.error = Error{Errc::io, "cannot save the registry: " + saved.error().message};
        return outcome;
    }
    if (entry.kind == registry::EntryKind::native) {
        store_.remove_version(dist, entry.version);
        if (entry.previous) store_.remove_version(dist, entry.previous->version);
    }
    store_.lift_quarantine(cid);
    runtime_.remove_data(cid);  // a later component of this id starts with nothing of this one's
    forget(cid);
    // Otherwise the file would install it again at the next start, and so would an older file
    // of it left in the directory (it yielded to the one that ran, which is gone now).
    if (channel != Channel::dropin && owner_of(entry) == Channel::dropin) {
        const fs::path file = dropin_file_of(entry);
        set_aside(file, "uninstalled", cid);
        for (const auto& other : store_.files_of_dist(file.parent_path(), dist)) {
            set_aside(other, "uninstalled", cid);
        }
    }
    outcome.restart_required = stopped.restart_required;
    sink_.changed();
    return outcome;
}

void ComponentLifecycle::set_aside(const fs::path& file, const std::string& suffix,
                                   const std::string& component_id) {
    if (file.empty()) return;
    const Status moved = store_.set_aside(file, suffix);
    if (moved) {
        logger("dropin")->info("{} is no longer the drop-in directory's: {} moved aside as .{}.{}",
                               component_id, file.string(), file.filename().string(), suffix);
    } else {
        logger("dropin")->warn("{}; it will install {} again at the next start",
                               moved.error().message, component_id);
    }
}

std::optional<std::string> ComponentLifecycle::dropin_yields(const std::string& dist,
                                                             const std::string& version,
                                                             const fs::path& file) const {
    std::lock_guard<std::mutex> lock(state_mutex_);
    const auto* installed = registry_.find_by_dist(dist);
    if (!installed) return std::nullopt;
    return dropin_yields_to(*installed, version, file);
}

}  // namespace lucid::host::components
