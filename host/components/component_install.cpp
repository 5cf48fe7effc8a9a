// Install (with upgrade and rollback), uninstall and drop-in files of ComponentManager.
#include <rapidjson/document.h>

#include "common/logging.hpp"
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

std::string dropin_source_json(const fs::path& file) {
    rapidjson::Document doc(rapidjson::kObjectType);
    auto& a = doc.GetAllocator();
    doc.AddMember("type", "dropin", a);
    doc.AddMember("path", rapidjson::Value(file.string(), a), a);
    return contract::to_json(doc);
}

}  // namespace

contract::Result ComponentManager::install(const contract::CommandRequest& request,
                                           const ProgressFn& progress) {
    contract::Result result(request.request_id, now());
    auto parsed = install::parse_install_request(request.payload, settings_.install);
    if (!parsed.request) {
        // Every install result carries the same fields (SPEC §4): unknown ones are null.
        const rapidjson::Value unknown;
        for (const char* field : {"component_id", "dist_name", "version", "sha256"}) {
            result.set(field, unknown);
        }
        flags(result, false, false, false);
        return std::move(result.fail(parsed.error));
    }
    const auto& rq = *parsed.request;
    describe(result, rq.component_id, rq.artifact.dist_name, rq.artifact.version, rq.source.sha256);
    flags(result, false, false, false);
    {
        // Decided before anything is downloaded: an install of what is there is free.
        std::lock_guard<std::mutex> lock(state_mutex_);
        if (const auto* entry = registry_.find(rq.component_id);
            entry &&
            same_artifact(*entry, rq.artifact.dist_name, rq.artifact.version, rq.source.sha256)) {
            return std::move(result.set("noop", true));
        }
        if (const auto* owner = registry_.find_by_dist(rq.artifact.dist_name);
            owner && owner->component_id != rq.component_id) {
            return std::move(result.fail("dist_name '" + rq.artifact.dist_name +
                                         "' is already installed as component '" +
                                         owner->component_id + "'"));
        }
    }
    auto verified = stage_and_verify(rq, files_, settings_.verifier, progress);
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

    // Undoes place() on failure, unless the registry still refers to that version: a reinstall
    // of the running version or of the one kept for rollback reused the file already there.
    const auto discard_placed = [&] {
        const bool referenced =
            existing && (existing->version == version ||
                         (existing->previous && existing->previous->version == version));
        if (!referenced) files_.remove_version(dist, version);
    };
    fs::path placed;
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
    entry.path = placed.string();
    entry.source_json = source_json;
    entry.config_json = config_json ? *config_json : (existing ? existing->config_json : "{}");
    entry.installed_at = contract::utc_timestamp(now());
    const bool upgrade = existing && existing->kind == registry::EntryKind::native;
    if (upgrade) {
        entry.enabled = existing->enabled;
        entry.previous =
            registry::PreviousVersion{existing->version, existing->sha256, existing->path};
    }
    set_quarantine(cid, false);

    // The new library is mapped (no plugin code runs) before the old one is stopped: a file that
    // does not even load never interrupts the running version.
    auto mapped = PluginComponent::load(entry.path, *this, {settings_.plugin_call_timeout});
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
                set_status(cid, {"stopped", existing->version, ""});
            }
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
            set_status(cid, {"stopped", existing->version, ""});
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
    result.set("restart_required", restart_required);
    publish_component_config(cid);
    if (changed_) changed_();
    return result;
}

contract::Result ComponentManager::uninstall(const contract::CommandRequest& request) {
    contract::Result result(request.request_id, now());
    flags(result, false, false, false);
    const auto& payload = request.payload;
    const auto cid_read = read_component_id(payload, result);
    if (!cid_read) return result;
    const std::string& cid = *cid_read;

    std::lock_guard<std::mutex> lifecycle(lifecycle_mutex_);
    registry::Registry registry = registry_copy();
    const registry::Entry* found = registry.find(cid);
    if (!found) return std::move(result.set("noop", true));
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
    set_quarantine(cid, false);
    forget_component(cid);
    result.set("restart_required", restart_required);
    if (changed_) changed_();
    return result;
}

void ComponentManager::dropin_ready(const fs::path& file) {
    auto log = logger("dropin");
    auto verified = stage_local_file(file, files_, settings_.verifier);
    if (!verified.artifact) {
        log->error("drop-in {} refused: {}", file.string(), verified.error);
        return;
    }
    const std::string cid = verified.artifact->manifest().component_id;
    auto result = install_verified("", cid, dropin_source_json(file), std::nullopt,
                                   std::move(*verified.artifact));
    if (result.ok()) {
        log->info("drop-in {} installed as {}: {}", file.string(), cid, result.str());
    } else {
        log->error("drop-in {} not installed: {}", file.string(), result.str());
    }
}

void ComponentManager::dropin_removed(const fs::path& file) {
    std::string cid;
    {
        std::lock_guard<std::mutex> lock(state_mutex_);
        for (const auto& [id, entry] : registry_.entries()) {
            rapidjson::Document source;
            source.Parse(entry.source_json.c_str());
            if (source.IsObject() && source.HasMember("type") && source["type"] == "dropin" &&
                source.HasMember("path") && source["path"] == file.string().c_str()) {
                cid = id;
            }
        }
    }
    // Only the file the running version came from uninstalls it: removing an older drop-in
    // after an upgrade changes nothing.
    if (cid.empty()) return;
    contract::CommandRequest request;
    request.payload.SetObject();
    request.payload.AddMember("component_id", rapidjson::Value(cid, request.payload.GetAllocator()),
                              request.payload.GetAllocator());
    auto result = uninstall(request);
    logger("dropin")->info("drop-in {} removed: uninstalled {}: {}", file.string(), cid,
                           result.str());
}

}  // namespace lucid::host::components
