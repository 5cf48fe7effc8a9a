// Install (with upgrade and rollback), uninstall and drop-in files of ComponentManager.
#include <rapidjson/document.h>

#include "common/logging.hpp"
#include "components/audit_log.hpp"
#include "components/component_manager.hpp"
#include "contract/timestamp.hpp"
#include "lucid/registry/dist_name.hpp"
#include "lucid/registry/echoed_value.hpp"
#include "lucid/registry/identifiers.hpp"

namespace lucid::host::components {
namespace fs = std::filesystem;

namespace {

void describe(contract::Result& result, const std::string& cid, const std::string& dist,
              const std::string& version, const std::string& sha256) {
    result.set("component_id", cid);
    result.set("dist_name", dist);
    result.set("version", version);
    result.set("sha256", sha256);
}

void flags(contract::Result& result, bool noop, bool rolled_back, bool restart_required) {
    result.set("noop", noop);
    result.set("rolled_back", rolled_back);
    result.set("restart_required", restart_required);
}

bool same_artifact(const registry::Entry& entry, const std::string& dist,
                   const std::string& version, const std::string& sha256) {
    return entry.kind == registry::EntryKind::native && entry.dist_name == dist &&
           entry.version == version && entry.sha256 == sha256;
}

// What a finished result says, for one log line (the whole JSON is not a log line).
std::string error_of(const contract::Result& result) {
    rapidjson::Document doc;
    doc.Parse(result.str().c_str());
    return doc.IsObject() && doc.HasMember("error") && doc["error"].IsString()
               ? doc["error"].GetString()
               : "";
}

bool noop_of(const contract::Result& result) {
    rapidjson::Document doc;
    doc.Parse(result.str().c_str());
    return doc.IsObject() && doc.HasMember("noop") && doc["noop"].IsBool() && doc["noop"].GetBool();
}

fs::path dropin_file_of_source(const std::string& source_json) {
    registry::Entry entry;
    entry.source_json = source_json;
    return dropin_file_of(entry);
}

// Another build (sha256) of a version the entry runs or keeps for rollback: refused whatever the
// artifact's file name, before anything is placed (ComponentFiles::place checks the folder too).
bool other_build_of_kept_version(const registry::Entry& entry, const std::string& dist,
                                 const std::string& version, const std::string& sha256) {
    if (entry.kind != registry::EntryKind::native || entry.dist_name != dist) return false;
    if (entry.version == version) return entry.sha256 != sha256;
    return entry.previous && entry.previous->version == version && entry.previous->sha256 != sha256;
}

std::string dropin_source_json(const fs::path& file) {
    rapidjson::Document doc(rapidjson::kObjectType);
    auto& a = doc.GetAllocator();
    doc.AddMember("type", "dropin", a);
    doc.AddMember("path", rapidjson::Value(file.string(), a), a);
    return contract::to_json(doc);
}

// A string field of a result; empty when absent or not a string.
std::string text_of(const contract::Result& result, const char* key) {
    const auto* value = result.find(key);
    return value && value->IsString() ? std::string(value->GetString(), value->GetStringLength())
                                      : std::string();
}

}  // namespace

contract::Result ComponentManager::install(const contract::CommandRequest& request,
                                           const ProgressFn& progress) {
    const auto cid = contract::read_component_id(request.payload);
    const std::string from = cid.ok() ? installed_version(cid.id) : "";
    contract::Result result = install_request(request, progress);
    const std::string to = text_of(result, "version");
    audit({install_operation(from, to), cid.echo.value_or(""), request.request_id, "", from, to},
          result);
    return result;
}

contract::Result ComponentManager::install_request(const contract::CommandRequest& request,
                                                   const ProgressFn& progress) {
    contract::Result result(request.request_id, now());
    const ManagerSettings settings = settings_.with_current_policy();
    auto parsed = install::parse_install_request(request.payload, settings.install);
    if (!parsed.request) {
        // Every install result carries the same fields (contract §4.1): unknown ones are null.
        const rapidjson::Value unknown;
        for (const char* field : {"dist_name", "version", "sha256"}) result.set(field, unknown);
        echo_component_id(contract::read_component_id(request.payload), result);
        flags(result, false, false, false);
        return std::move(result.fail(parsed.error));
    }
    const auto& rq = *parsed.request;
    if (rq.artifact) {
        describe(result, rq.component_id, rq.artifact->dist_name, rq.artifact->version,
                 rq.source.sha256);
    } else {
        // A download link: what it is becomes known once it is downloaded (install_verified
        // makes the checks below then).
        const rapidjson::Value unknown;
        result.set("component_id", rq.component_id);
        result.set("dist_name", unknown);
        result.set("version", unknown);
        result.set("sha256", rq.source.sha256);
    }
    flags(result, false, false, false);
    if (rq.artifact) {
        const auto& artifact = *rq.artifact;
        // Decided before anything is downloaded: an install of what is there is free.
        std::lock_guard<std::mutex> lock(state_mutex_);
        if (const auto* entry = registry_.find(rq.component_id);
            entry &&
            same_artifact(*entry, artifact.dist_name, artifact.version, rq.source.sha256)) {
            return std::move(result.set("noop", true));
        }
        if (const auto* entry = registry_.find(rq.component_id);
            entry && other_build_of_kept_version(*entry, artifact.dist_name, artifact.version,
                                                 rq.source.sha256)) {
            return std::move(result.fail(install::ComponentFiles::different_build_error(
                artifact.dist_name, artifact.version)));
        }
        if (const auto* owner = registry_.find_by_dist(artifact.dist_name);
            owner && owner->component_id != rq.component_id) {
            return std::move(result.fail("dist_name '" + artifact.dist_name +
                                         "' is already installed as component '" +
                                         owner->component_id + "'"));
        }
    }
    auto verified = stage_and_verify(rq, files_, settings.verifier, progress);
    if (!verified.artifact) return std::move(result.fail(verified.error));
    if (verified.artifact->manifest().component_id != rq.component_id) {
        return std::move(result.fail("validation_error: component_id '" + rq.component_id +
                                     "' does not match the artifact's manifest ('" +
                                     verified.artifact->manifest().component_id + "')"));
    }
    return install_verified(request.request_id, rq.component_id, rq.source.json, rq.config_json,
                            std::move(*verified.artifact));
}

contract::Result ComponentManager::install_verified(const std::string& request_id,
                                                    const std::string& cid,
                                                    const std::string& source_json,
                                                    const std::optional<std::string>& config_json,
                                                    StagedArtifact artifact) {
    contract::Result result(request_id, now());
    const std::string dist = registry::normalize_dist_name(artifact.manifest().dist_name);
    const std::string version = artifact.manifest().version;
    describe(result, cid, dist, version, artifact.sha256());
    flags(result, false, false, false);

    std::lock_guard<std::mutex> lifecycle(lifecycle_mutex_);
    registry::Registry registry = registry_copy();
    const registry::Entry* existing_ptr = registry.find(cid);
    const std::optional<registry::Entry> existing =
        existing_ptr ? std::optional<registry::Entry>(*existing_ptr) : std::nullopt;
    if (existing && same_artifact(*existing, dist, version, artifact.sha256())) {
        return std::move(result.set("noop", true));
    }
    // Checked again under the lock: a drop-in never passed install()'s check, and another
    // install may have taken the dist since.
    if (const auto* owner = registry.find_by_dist(dist); owner && owner->component_id != cid) {
        return std::move(result.fail("dist_name '" + dist +
                                     "' is already installed as component '" + owner->component_id +
                                     "'"));
    }
    // Under the lock too: dropin_ready() checked before staging, an MQTT install may have won.
    const Channel channel = channel_of_source(source_json);
    if (existing && channel == Channel::dropin) {
        if (auto why = dropin_yields_to(*existing, version, dropin_file_of_source(source_json))) {
            return std::move(result.fail(*why));
        }
    }

    if (existing && other_build_of_kept_version(*existing, dist, version, artifact.sha256())) {
        return std::move(
            result.fail(install::ComponentFiles::different_build_error(dist, version)));
    }

    // Undoes place() on failure: the file it created (a reused one stays, the registry names it)
    // and the folders it left empty.
    install::ComponentFiles::Placed placed;
    const auto discard_placed = [&] { files_.discard(placed, dist, version); };
    try {
        placed = files_.place(artifact.file(), dist, version, artifact.file().filename().string(),
                              artifact.sha256());
    } catch (const std::exception& e) {
        discard_placed();  // a directory created before the move failed
        return std::move(result.fail(e.what()));
    }

    registry::Entry entry;
    entry.component_id = cid;
    entry.dist_name = dist;
    entry.version = version;
    entry.sha256 = artifact.sha256();
    entry.path = placed.path.string();
    entry.source_json = source_json;
    entry.config_json = config_json ? *config_json : (existing ? existing->config_json : "{}");
    entry.installed_at = contract::utc_timestamp(now());
    // Another version: a reinstall of the same one (refused above when its build differs) has
    // nothing to roll back to and never says it rolled back.
    const bool upgrade = existing && existing->kind == registry::EntryKind::native &&
                         (existing->version != version || existing->dist_name != dist);
    if (upgrade) {
        entry.enabled = existing->enabled;
        entry.previous =
            registry::PreviousVersion{existing->version, existing->sha256, existing->path};
    }
    // A new build, or the same one installed again on purpose: whatever kept it out is lifted.
    lift_quarantine(cid);
    // Until this install is answered: if its plugin takes the agent down, the next start
    // answers it (component_quarantine.cpp).
    const auto installing = mark_installing(request_id, entry);

    // The new library is mapped (no plugin code runs) before the old one is stopped: a file that
    // does not even load never interrupts the running version.
    auto mapped = PluginComponent::load(entry.path, *this,
                                        {settings_.plugin_call_timeout, settings_.plugin_queue});
    if (!mapped.ok()) {
        discard_placed();
        result.set("rolled_back", upgrade);
        return std::move(result.fail(mapped.error));
    }

    const bool was_running = upgrade && loaded_.count(cid) > 0;
    const bool restart_required = was_running && stop_and_unload(cid);
    std::string error = start_loaded(entry, std::move(mapped));
    if (error.empty() && upgrade && !healthy_for(cid, settings_.health_window)) {
        std::lock_guard<std::mutex> lock(state_mutex_);
        error = "the new version failed right after starting: " + statuses_[cid].error;
    }
    if (!error.empty()) {
        stop_and_unload(cid);
        discard_placed();
        if (upgrade) {
            result.set("rolled_back", true);
            if (was_running) {
                if (auto again = load_and_start(*existing); !again.empty()) {
                    error += "; the previous version " + existing->version +
                             " did not start again: " + again;
                }
            } else {
                set_status(cid, {ComponentState::stopped, existing->version, ""});
            }
        } else if (!existing) {
            // Nothing was installed: the answer says why, no failed status stays behind (an
            // operator could neither uninstall nor restart such a ghost).
            forget_component(cid);
        }
        if (changed_) changed_();
        return std::move(result.fail(error));
    }

    try {
        registry.put(entry);
        save_registry(registry);
    } catch (const std::exception& e) {
        // Without a registry entry the new version would vanish at the next boot: undo it now,
        // files and published status included, so that nothing is left half-installed.
        stop_and_unload(cid);
        discard_placed();
        if (was_running) {
            load_and_start(*existing);
        } else if (upgrade) {
            set_status(cid, {ComponentState::stopped, existing->version, ""});
        } else if (!existing) {
            forget_component(cid);
        }
        result.set("rolled_back", upgrade);
        if (changed_) changed_();
        return std::move(result.fail(std::string("cannot save the registry: ") + e.what()));
    }
    // Keep exactly one version for rollback: the one just replaced.
    if (existing && existing->previous && existing->previous->version != version &&
        existing->previous->version != existing->version) {
        files_.remove_version(dist, existing->previous->version);
    }
    // MQTT took a drop-in component over: its file must not take it back at the next start.
    if (existing && channel == Channel::mqtt && owner_of(*existing) == Channel::dropin) {
        set_dropin_file_aside(dropin_file_of(*existing), "superseded", cid);
    }
    result.set("restart_required", restart_required);
    publish_component_config(cid);
    if (changed_) changed_();
    return result;
}

contract::Result ComponentManager::uninstall(const contract::CommandRequest& request) {
    const auto cid = contract::read_component_id(request.payload);
    const std::string from = cid.ok() ? installed_version(cid.id) : "";
    contract::Result result = uninstall_from(Channel::mqtt, request);
    audit({"uninstall", cid.echo.value_or(""), request.request_id, "", from, ""}, result);
    return result;
}

contract::Result ComponentManager::uninstall_from(Channel channel,
                                                  const contract::CommandRequest& request) {
    contract::Result result(request.request_id, now());
    flags(result, false, false, false);
    const auto& payload = request.payload;
    const auto cid_read = read_component_id(payload, result);
    if (!cid_read) return result;
    const std::string& cid = *cid_read;

    std::lock_guard<std::mutex> lifecycle(lifecycle_mutex_);
    registry::Registry registry = registry_copy();
    const registry::Entry* found = registry.find(cid);
    if (!found) {
        // A drop-in file kept out after it crashed is not registered, but its failed status is
        // shown: uninstalling the component clears that too (the file stays, kept out).
        if (read_quarantine(cid)) forget_component(cid);
        return std::move(result.set("noop", true));
    }
    const registry::Entry entry = *found;

    std::string dist = entry.dist_name;
    if (dist.empty()) {
        auto d = payload.FindMember("dist_name");
        if (d == payload.MemberEnd() || !d->value.IsString() || d->value.GetStringLength() == 0) {
            return std::move(result.fail(
                "registry missing dist_name for component; provide dist_name in uninstall payload "
                "for migration"));
        }
        // With its length: a NUL inside must not cut the name short ("x\u0000y" is not "x").
        dist = registry::normalize_dist_name({d->value.GetString(), d->value.GetStringLength()});
        if (!registry::is_valid_identifier(dist)) {
            return std::move(result.fail("validation_error: dist_name '" +
                                         registry::echoed_value(dist) + "' is invalid"));
        }
    }
    result.set("dist_name", dist);
    result.set("version", entry.version);

    const bool was_loaded = loaded_.count(cid) > 0;
    const bool restart_required = stop_and_unload(cid);
    registry.erase(cid);
    try {
        save_registry(registry);  // before deleting: a crash now leaves only orphan files
    } catch (const std::exception& e) {
        // Still installed: it runs again if it ran (a stopped one stays stopped).
        if (was_loaded) load_and_start(entry);
        return std::move(result.fail(std::string("cannot save the registry: ") + e.what()));
    }
    if (entry.kind == registry::EntryKind::native) {
        files_.remove_version(dist, entry.version);
        if (entry.previous) files_.remove_version(dist, entry.previous->version);
    }
    lift_quarantine(cid);
    forget_component(cid);
    // Otherwise the file would install it again at the next start.
    if (channel == Channel::mqtt && owner_of(entry) == Channel::dropin) {
        set_dropin_file_aside(dropin_file_of(entry), "uninstalled", cid);
    }
    result.set("restart_required", restart_required);
    if (changed_) changed_();
    return result;
}

void ComponentManager::dropin_ready(const fs::path& file) {
    auto log = logger("dropin");
    const std::string source = "dropin " + file.string();
    // Decided by the file name before anything is copied: a file that yields to what is
    // installed (component_channel.hpp) is not even staged. The same file is reported often
    // (rescans, a .sig arriving): each outcome is logged once per version of the file.
    std::optional<std::string> ignored;
    std::string named_version;  // from the file name, for the audit line of a refusal
    try {
        const auto name = registry::parse_artifact_name(file.string());
        named_version = name.version;
        std::lock_guard<std::mutex> lock(state_mutex_);
        if (const auto* installed = registry_.find_by_dist(name.dist_name)) {
            ignored = dropin_yields_to(*installed, name.version, file);
        }
    } catch (const std::invalid_argument&) {
        // The watcher reports artifact names only; the pipeline refuses anything else below.
    }
    if (ignored) {
        if (dropin_log_.first_time(file, *ignored)) log->warn("{}", *ignored);
        return;
    }
    const auto identity = dropin::file_version(file);  // before the copy: what "changed" means
    auto verified = stage_local_file(file, files_, settings_.with_current_policy().verifier);
    if (!verified.artifact) {
        if (dropin_log_.first_time(file, verified.error)) {
            contract::Result refused("", now());
            // Not final: a .sig arriving later is picked up (the README's promise).
            const bool unsigned_file = verified.error.rfind("signature required", 0) == 0;
            refused.fail(unsigned_file ? verified.error + "; waiting for " + file.string() + ".sig"
                                       : verified.error);
            audit({"install", "", "", source, "", named_version}, refused);
        }
        return;
    }
    const std::string cid = verified.artifact->manifest().component_id;
    const std::string version = verified.artifact->manifest().version;
    if (dropin_blocked(file, identity, cid, verified.artifact->sha256())) return;
    const std::string from = installed_version(cid);
    auto result = install_verified("", cid, dropin_source_json(file), std::nullopt,
                                   std::move(*verified.artifact));
    if (!result.ok()) {
        if (dropin_log_.first_time(file, error_of(result))) {
            audit({install_operation(from, version), cid, "", source, from, version}, result);
        }
        return;
    }
    dropin_log_.forget(file);
    if (noop_of(result)) {
        log->debug("drop-in {}: {} {} is installed already", file.string(), cid, version);
    } else {
        audit({install_operation(from, version), cid, "", source, from, version}, result);
    }
}

void ComponentManager::dropin_removed(const fs::path& file) {
    dropin_log_.forget(file);
    std::string cid;
    // Not compared as text: the drop-in directory may have been reached another way when the
    // file was installed (a symlinked data directory).
    const fs::path removed = install::resolved_path(file);
    {
        std::lock_guard<std::mutex> lock(state_mutex_);
        for (const auto& [id, entry] : registry_.entries()) {
            const fs::path source = dropin_file_of(entry);
            if (!source.empty() && install::resolved_path(source) == removed) cid = id;
        }
    }
    // Only the file the running version came from uninstalls it: removing an older drop-in
    // after an upgrade changes nothing, and neither does removing a file of a component that
    // MQTT installed or took over.
    if (cid.empty()) {
        dropin_quarantine_removed(file);
        return;
    }
    contract::CommandRequest request;
    request.payload.SetObject();
    request.payload.AddMember("component_id", rapidjson::Value(cid, request.payload.GetAllocator()),
                              request.payload.GetAllocator());
    const std::string from = installed_version(cid);
    auto result = uninstall_from(Channel::dropin, request);
    audit({"uninstall", cid, "", "dropin " + file.string() + " removed", from, ""}, result);
}

void ComponentManager::set_dropin_file_aside(const fs::path& file, const std::string& suffix,
                                             const std::string& component_id) {
    if (file.empty()) return;
    const std::string error = move_dropin_aside(file, suffix);
    if (error.empty()) {
        logger("dropin")->info("{} is no longer the drop-in directory's: {} moved aside as .{}.{}",
                               component_id, file.string(), file.filename().string(), suffix);
    } else {
        logger("dropin")->warn("{}; it will install {} again at the next start", error,
                               component_id);
    }
}

}  // namespace lucid::host::components
