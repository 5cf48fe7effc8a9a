// Install (with upgrade and rollback), uninstall and drop-in files of ComponentManager: the
// commands' payloads read and their results written; the lifecycle does the work.
#include <rapidjson/document.h>

#include <optional>
#include <string_view>

#include "common/atomic_file.hpp"
#include "common/file_modes.hpp"
#include "common/logging.hpp"
#include "components/audit_log.hpp"
#include "components/component_manager.hpp"
#include "install/broker_fetch.hpp"
#include "install/curl_library.hpp"
#include "lucid/registry/dist_name.hpp"

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

// The install result of a lifecycle outcome, its fields described already.
contract::Result install_result(contract::Result result, const Outcome& outcome) {
    flags(result, outcome.noop, outcome.rolled_back, outcome.restart_required);
    if (!outcome.ok()) result.fail(outcome.error->message);
    return result;
}

std::string dropin_source_json(const fs::path& file) {
    rapidjson::Document doc(rapidjson::kObjectType);
    auto& a = doc.GetAllocator();
    doc.AddMember("type", "dropin", a);
    doc.AddMember("path", rapidjson::Value(file.string(), a), a);
    return contract::to_json(doc);
}

// The stored source of an install the desired state made: marked with its revision
// (component_channel.hpp), so that the registry tells which channel owns the component.
std::string mark_desired(const std::string& source_json, std::uint64_t revision) {
    rapidjson::Document source;
    source.Parse(source_json.c_str());
    if (!source.IsObject()) source.SetObject();
    source.RemoveMember(kDesiredRevision);
    source.AddMember(rapidjson::StringRef(kDesiredRevision), rapidjson::Value(revision),
                     source.GetAllocator());
    return contract::to_json(source);
}

// A string field of a result; empty when absent or not a string.
std::string text_of(const contract::Result& result, const char* key) {
    const auto* value = result.find(key);
    return value && value->IsString() ? std::string(value->GetString(), value->GetStringLength())
                                      : std::string();
}

// A source the agent fetches by URL (contract §4.1: url, github_release).
bool fetched_by_url(const rapidjson::Value& payload) {
    if (!payload.IsObject()) return false;
    const auto source = payload.FindMember("source");
    if (source == payload.MemberEnd() || !source->value.IsObject()) return false;
    const auto type = source->value.FindMember("type");
    if (type == source->value.MemberEnd() || !type->value.IsString()) return false;
    const std::string_view t(type->value.GetString(), type->value.GetStringLength());
    return t == "url" || t == "github_release";
}

}  // namespace

contract::Result ComponentManager::install(const contract::CommandRequest& request,
                                           const ProgressFn& progress) {
    const auto cid = contract::read_component_id(request.payload);
    const std::string from = cid.ok() ? lifecycle_.installed_version(cid.id) : "";
    contract::Result result = install_request(request, progress);
    const std::string to = text_of(result, "version");
    audit({install_operation(from, to), cid.echo.value_or(""), request.request_id, "", from, to},
          result);
    return result;
}

contract::Result ComponentManager::install_request(
    const contract::CommandRequest& request, const ProgressFn& progress,
    const std::optional<std::uint64_t>& desired_revision,
    std::shared_ptr<std::atomic<bool>> cancelled, install::FloorContext fleet) {
    contract::Result result(request.request_id, now());
    // Parsing, checking and downloading a URL each use libcurl, which is mapped only while
    // something holds it (install/curl_library.hpp): held once for the whole install. When it
    // cannot be loaded, the step that needs it says so.
    std::optional<install::CurlLease> curl;
    if (fetched_by_url(request.payload)) {
        if (auto lease = install::CurlLease::acquire()) curl = std::move(lease.value());
    }
    ManagerSettings settings = settings_.with_current_policy();
    if (cancelled) settings.verifier.limits.cancelled = std::move(cancelled);
    auto parsed = install::parse_install_request(request.payload, settings.install);
    if (!parsed.request) {
        // Every install result carries the same fields (contract §4.1): unknown ones are null.
        const rapidjson::Value unknown;
        for (const char* field : {"dist_name", "version", "sha256"}) result.set(field, unknown);
        echo_component_id(contract::read_component_id(request.payload), result);
        flags(result, false, false, false);
        return std::move(result.fail(parsed.error));
    }
    auto& rq = *parsed.request;
    install::FloorContext& floor = fleet;
    floor.allow_downgrade = rq.allow_downgrade;
    // With signatures required, a permission to go back is a trusted key's, not the sender's
    // (contract §8.13). Verified now, with the policy of this install; it counts only where a
    // downgrade needs it (TrustState::check).
    if (rq.allow_downgrade && settings.verifier.signatures.require_signature) {
        floor.permit_required = true;
        if (rq.rollback_permit) {
            const auto& signatures = settings.verifier.signatures;
            auto permit = install::verify_rollback_permit(
                *rq.rollback_permit, signatures.keys ? *signatures.keys : install::TrustedKeySet{},
                signatures.revoked, std::chrono::system_clock::now());
            if (permit) {
                floor.permit = permit.value();
            } else {
                floor.permit_error = permit.error().message;
            }
        }
    }
    if (desired_revision) rq.source.json = mark_desired(rq.source.json, *desired_revision);
    if (rq.artifact) {
        describe(result, rq.component_id, rq.artifact->dist_name, rq.artifact->version,
                 rq.source.sha256);
        // Decided before anything is downloaded: an install of what is there is free.
        if (auto decided =
                lifecycle_.decide_install(rq.component_id, rq.artifact->dist_name,
                                          rq.artifact->version, rq.source.sha256, floor)) {
            // The same build with other settings: they apply as configure would (a flag is
            // never silently ignored; run_as is checked against the local setting).
            if (decided->noop && (rq.isolation || rq.limits || rq.run_as)) {
                decided = lifecycle_.set_isolation(
                    rq.component_id, rq.isolation ? parse_isolation(*rq.isolation) : std::nullopt,
                    rq.limits, rq.run_as);
            }
            return install_result(std::move(result), *decided);
        }
    } else {
        // A download link: what it is becomes known once it is downloaded (the lifecycle's
        // install makes the checks then).
        const rapidjson::Value unknown;
        result.set("component_id", rq.component_id);
        result.set("dist_name", unknown);
        result.set("version", unknown);
        result.set("sha256", rq.source.sha256);
    }
    flags(result, false, false, false);
    if (rq.source.type == install::SourceType::broker) {
        if (Status fetched = install::fetch_from_broker(
                rq.source, {mqtt_.router, mqtt_.session, settings_.data_dir},
                settings.verifier.limits, progress);
            !fetched) {
            return std::move(result.fail(fetched.error().message));
        }
    }
    auto verified = install::stage_and_verify(rq, store_.files(), settings.verifier, progress);
    if (!verified) return std::move(result.fail(verified.error().message));
    if (verified.value().manifest().component_id != rq.component_id) {
        return std::move(result.fail("validation_error: component_id '" + rq.component_id +
                                     "' does not match the artifact's manifest ('" +
                                     verified.value().manifest().component_id + "')"));
    }
    return install_verified(request.request_id, rq, verified.value(), floor);
}

contract::Result ComponentManager::install_verified(const std::string& request_id,
                                                    const install::InstallRequest& rq,
                                                    const install::StagedArtifact& artifact,
                                                    const install::FloorContext& floor) {
    const std::string& cid = rq.component_id;
    contract::Result result(request_id, now());
    InstallOrder order{
        request_id,
        cid,
        rq.source.json,
        rq.config_json,
        StagedFile{artifact.file(), registry::normalize_dist_name(artifact.manifest().dist_name),
                   artifact.manifest().version, artifact.sha256(), artifact.signature().key_id,
                   artifact.signature().key_file},
        rq.isolation ? parse_isolation(*rq.isolation) : std::nullopt,
        rq.limits,
        rq.run_as,
        floor};
    describe(result, cid, order.artifact.dist_name, order.artifact.version, artifact.sha256());
    return install_result(std::move(result), lifecycle_.install(order));
}

void ComponentManager::answer_interrupted(const InterruptedInstall& answer) {
    contract::Result result(answer.pending.request_id, now());
    describe(result, answer.component_id, answer.pending.dist_name, answer.pending.version,
             answer.pending.sha256);
    flags(result, false, answer.rolled_back, false);
    if (answer.demoted) {
        // It runs, in process isolation: the install did what was asked.
        result.set("isolation", "process");
        result.set("demoted", true);
        result.set("demoted_because", answer.error);
    } else {
        result.fail(answer.error);
    }
    // A drop-in file has no request to answer, but its install gets its audit line all the same.
    const fs::path dropin_file = dropin_file_of_source(answer.pending.source_json);
    const std::string source = dropin_file.empty() ? "" : "dropin " + dropin_file.string();
    audit({install_operation(answer.from, answer.pending.version), answer.component_id,
           answer.pending.request_id, source, answer.from, answer.pending.version},
          result);
    if (answer.pending.request_id.empty()) return;  // nobody asked
    commands::CommandSpec install;
    install.name = "install";
    install.result_topic = mqtt_.topics.at(contract::topics::kInstall.result);
    // Recorded first (a redelivered copy of the install gets this answer, never a rerun), then
    // queued until the session connects.
    mqtt_.commands.finish(install, answer.pending.request_id,
                          commands::CommandReply(std::move(result)));
}

contract::Result ComponentManager::uninstall(const contract::CommandRequest& request) {
    contract::Result result(request.request_id, now());
    flags(result, false, false, false);
    const auto cid = contract::read_component_id(request.payload);
    const std::string from = cid.ok() ? lifecycle_.installed_version(cid.id) : "";
    echo_component_id(cid, result);
    if (!cid.ok()) {
        result.fail(cid.error);
    } else {
        // The payload's dist_name, read with its length: a NUL inside must not cut it short.
        std::optional<std::string> dist_hint;
        auto d = request.payload.FindMember("dist_name");
        if (d != request.payload.MemberEnd() && d->value.IsString()) {
            dist_hint = std::string(d->value.GetString(), d->value.GetStringLength());
        }
        const Outcome outcome = lifecycle_.uninstall(cid.id, Channel::mqtt, dist_hint);
        if (!outcome.dist_name.empty()) result.set("dist_name", outcome.dist_name);
        if (!outcome.version.empty()) result.set("version", outcome.version);
        flags(result, outcome.noop, false, outcome.restart_required);
        if (!outcome.ok()) result.fail(outcome.error->message);
    }
    audit({"uninstall", cid.echo.value_or(""), request.request_id, "", from, ""}, result);
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
        ignored = lifecycle_.dropin_yields(name.dist_name, name.version, file);
    } catch (const std::invalid_argument&) {
        // The watcher reports artifact names only; the pipeline refuses anything else below.
    }
    if (ignored) {
        if (dropin_log_this_start_.first_time(file, *ignored)) log->warn("{}", *ignored);
        return;
    }
    const auto identity = dropin::file_version(file);  // before the copy: what "changed" means
    auto verified =
        install::stage_local_file(file, store_.files(), settings_.with_current_policy().verifier);
    if (!verified) {
        const std::string& error = verified.error().message;
        if (dropin_log_.first_time(file, error)) {
            contract::Result refused("", now());
            // Not final: a .sig arriving later is picked up (the README's promise).
            const bool unsigned_file = error.rfind("signature required", 0) == 0;
            refused.fail(unsigned_file ? error + "; waiting for " + file.string() + ".sig" : error);
            audit({"install", "", "", source, "", named_version}, refused);
        }
        return;
    }
    const install::StagedArtifact& artifact = verified.value();
    const std::string cid = artifact.manifest().component_id;
    const std::string version = artifact.manifest().version;
    if (auto blocked = lifecycle_.dropin_blocked(file, identity, cid, artifact.sha256())) {
        if (dropin_log_this_start_.first_time(file, *blocked)) log->warn("{}", *blocked);
        return;
    }
    const std::string from = lifecycle_.installed_version(cid);
    InstallOrder order{
        "",
        cid,
        dropin_source_json(file),
        std::nullopt,
        StagedFile{artifact.file(), registry::normalize_dist_name(artifact.manifest().dist_name),
                   version, artifact.sha256(), artifact.signature().key_id,
                   artifact.signature().key_file},
        std::nullopt,
        std::nullopt,
        std::nullopt,
        {}};  // a drop-in file carries no permission: going below the floor takes a reset
    const Outcome outcome = lifecycle_.install(order);
    contract::Result result("", now());
    describe(result, cid, order.artifact.dist_name, version, artifact.sha256());
    result = install_result(std::move(result), outcome);
    if (!outcome.ok()) {
        if (dropin_log_this_start_.first_time(file, outcome.error->message)) {
            audit({install_operation(from, version), cid, "", source, from, version}, result);
        }
        return;
    }
    dropin_log_.forget(file);
    dropin_log_this_start_.forget(file);
    if (outcome.noop) {
        log->debug("drop-in {}: {} {} is installed already", file.string(), cid, version);
    } else {
        audit({install_operation(from, version), cid, "", source, from, version}, result);
    }
}

void ComponentManager::dropin_rejected(const fs::path& file, const std::string& reason) {
    if (dropin_log_.first_time(file, reason)) {
        logger("dropin")->warn("drop-in file rejected: {}", reason);
    }
}

void ComponentManager::dropin_scan_done() {
    if (const std::size_t quiet = dropin_log_.quiet_from_earlier_starts()) {
        logger("dropin")->info(
            "drop-in directory: {} unchanged file(s) still refused as logged at an earlier start "
            "(change or remove them to try again)",
            quiet);
    }
}

void ComponentManager::dropin_removed(const fs::path& file) {
    dropin_log_.forget(file);
    dropin_log_this_start_.forget(file);
    std::string cid;
    // Not compared as text: the drop-in directory may have been reached another way when the
    // file was installed (a symlinked data directory).
    const fs::path removed = install::resolved_path(file);
    const registry::Registry registry = lifecycle_.registry();
    for (const auto& [id, entry] : registry.entries()) {
        const fs::path source = dropin_file_of(entry);
        if (!source.empty() && install::resolved_path(source) == removed) cid = id;
    }
    // Only the file the running version came from uninstalls it: removing an older drop-in
    // after an upgrade changes nothing, and neither does removing a file of a component that
    // MQTT installed or took over.
    if (cid.empty()) {
        lifecycle_.dropin_removed(file);
        return;
    }
    const std::string from = lifecycle_.installed_version(cid);
    contract::Result result("", now());
    result.set("component_id", cid);
    const Outcome outcome = lifecycle_.uninstall(cid, Channel::dropin, std::nullopt);
    flags(result, outcome.noop, false, outcome.restart_required);
    if (!outcome.ok()) result.fail(outcome.error->message);
    audit({"uninstall", cid, "", "dropin " + file.string() + " removed", from, ""}, result);
}

}  // namespace lucid::host::components
