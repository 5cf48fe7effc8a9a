// What the desired state (fleet/desired_state.hpp) asks of ComponentManager: installs, removals,
// enable/disable and configs through the very pipeline of the commands, each with its audit line
// (source `desired revision N`, no request_id: nobody waits for a result topic).
#include <rapidjson/document.h>

#include "components/audit_log.hpp"
#include "components/component_manager.hpp"
#include "lucid/registry/registry_json.hpp"

namespace lucid::host::components {
namespace {

std::string desired_source(std::uint64_t revision) {
    return "desired revision " + std::to_string(revision);
}

// The install command the desired state stands for: {component_id, version, source, config?}.
contract::CommandRequest install_command(const ComponentManager::DesiredInstall& install) {
    contract::CommandRequest request;
    auto& doc = request.payload;
    doc.SetObject();
    auto& a = doc.GetAllocator();
    doc.AddMember("component_id", rapidjson::Value(install.component_id, a), a);
    doc.AddMember("version", rapidjson::Value(install.version, a), a);
    rapidjson::Document source(&a);
    source.Parse(install.source_json.c_str());
    doc.AddMember("source", rapidjson::Value(source, a), a);
    if (install.config_json) {
        rapidjson::Document config(&a);
        config.Parse(install.config_json->c_str());
        doc.AddMember("config", rapidjson::Value(config, a), a);
    }
    if (install.allow_downgrade) doc.AddMember("allow_downgrade", true, a);
    if (install.rollback_permit) {
        doc.AddMember("rollback_permit", rapidjson::Value(*install.rollback_permit, a), a);
    }
    if (install.isolation) doc.AddMember("isolation", rapidjson::Value(*install.isolation, a), a);
    if (install.limits) {
        rapidjson::Value limits;
        registry::write_limits(*install.limits, limits, a);
        doc.AddMember("limits", limits, a);
    }
    if (install.run_as) {
        rapidjson::Value run_as;
        registry::write_run_as(*install.run_as, run_as, a);
        doc.AddMember("run_as", run_as, a);
    }
    return request;
}

// The rollout that wrote the document, or whose abort it is (allow_downgrade is the payload's).
install::FloorContext desired_floor(const ComponentManager::DesiredInstall& install) {
    install::FloorContext floor;
    floor.rollout = install.rollout;
    floor.rollback_of = install.rollback_of;
    return floor;
}

Status status_of(const contract::Result& result) {
    if (result.ok()) return done();
    const auto* error = result.find("error");
    return Error{Errc::invalid, error && error->IsString() ? error->GetString() : "failed"};
}

Status status_of(const Outcome& outcome) {
    if (outcome.ok()) return done();
    return *outcome.error;
}

}  // namespace

Status ComponentManager::check_desired_install(const DesiredInstall& install) const {
    const auto parsed = install::parse_install_request(install_command(install).payload,
                                                       settings_.with_current_policy().install);
    if (!parsed.request) return Error{Errc::invalid, parsed.error};
    return done();
}

Status ComponentManager::desired_install(const DesiredInstall& install) {
    const std::string from = lifecycle_.installed_version(install.component_id);
    contract::Result result = install_request(install_command(install), {}, install.revision,
                                              install.cancelled, desired_floor(install));
    audit({install_operation(from, install.version), install.component_id, "",
           desired_source(install.revision), from, install.version},
          result);
    return status_of(result);
}

Status ComponentManager::desired_isolation(std::uint64_t revision, const std::string& component_id,
                                           const std::optional<std::string>& isolation,
                                           const std::optional<registry::Limits>& limits,
                                           const std::optional<registry::RunAs>& run_as) {
    const std::string version = lifecycle_.installed_version(component_id);
    const Outcome outcome = lifecycle_.set_isolation(
        component_id, isolation ? parse_isolation(*isolation) : std::nullopt, limits, run_as);
    contract::Result result("", now());
    result.set("component_id", component_id);
    if (isolation) result.set("isolation", *isolation);
    if (!outcome.ok()) result.fail(outcome.error->message);
    audit({"configure", component_id, "", desired_source(revision), version, version}, result);
    return status_of(outcome);
}

Status ComponentManager::desired_uninstall(std::uint64_t revision,
                                           const std::string& component_id) {
    const std::string from = lifecycle_.installed_version(component_id);
    const Outcome outcome = lifecycle_.uninstall(component_id, Channel::desired, std::nullopt);
    contract::Result result("", now());
    result.set("component_id", component_id);
    result.set("noop", outcome.noop);
    result.set("restart_required", outcome.restart_required);
    if (!outcome.ok()) result.fail(outcome.error->message);
    audit({"uninstall", component_id, "", desired_source(revision), from, ""}, result);
    return status_of(outcome);
}

Status ComponentManager::desired_enable(std::uint64_t revision, const std::string& component_id,
                                        bool enabled) {
    Outcome outcome = lifecycle_.set_enabled(component_id, enabled);
    // The document says what runs, not only what starts at boot.
    if (outcome.ok()) {
        const bool running = runtime_.running(component_id);
        if (enabled && !running) outcome = lifecycle_.start(component_id);
        if (!enabled && running) outcome = lifecycle_.stop(component_id);
    }
    contract::Result result("", now());
    result.set("noop", outcome.noop);
    if (!outcome.ok()) result.fail(outcome.error->message);
    const std::string version = lifecycle_.installed_version(component_id);
    audit({enabled ? "enable" : "disable", component_id, "", desired_source(revision), version,
           version},
          result);
    return status_of(outcome);
}

Status ComponentManager::desired_config(std::uint64_t revision, const std::string& component_id,
                                        const std::string& config_json) {
    const Outcome outcome = lifecycle_.set_config(component_id, config_json);
    contract::Result result("", now());
    if (!outcome.ok()) result.fail(outcome.error->message);
    const std::string version = lifecycle_.installed_version(component_id);
    audit({"config", component_id, "", desired_source(revision), version, version}, result);
    return status_of(outcome);
}

}  // namespace lucid::host::components
