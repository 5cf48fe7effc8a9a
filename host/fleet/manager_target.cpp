#include "fleet/manager_target.hpp"

namespace lucid::host::fleet {
namespace {

components::ComponentManager::DesiredInstall order_of(const DesiredInstallStep& step) {
    return {step.revision,       step.component_id,    step.version, step.source_json,
            step.config_json,    step.isolation,       step.limits,  step.run_as,
            step.cancelled,      step.allow_downgrade, step.rollout, step.rollback_of,
            step.rollback_permit};
}

}  // namespace

std::map<std::string, InstalledComponent> ManagerTarget::installed() const {
    std::map<std::string, InstalledComponent> out;
    const auto registry = manager_.registry();
    for (const auto& [id, entry] : registry.entries()) {
        out[id] = {entry.version,
                   entry.enabled,
                   entry.config_json,
                   manager_.running(id),
                   manager_.isolation_of(entry),
                   entry.limits,
                   entry.run_as,
                   manager_.signer_revoked(entry)};
    }
    return out;
}

Status ManagerTarget::check_install(const DesiredInstallStep& step) const {
    return manager_.check_desired_install(order_of(step));
}

Status ManagerTarget::install(const DesiredInstallStep& step) {
    return manager_.desired_install(order_of(step));
}

Status ManagerTarget::uninstall(std::uint64_t revision, const std::string& component_id) {
    return manager_.desired_uninstall(revision, component_id);
}

Status ManagerTarget::set_enabled(std::uint64_t revision, const std::string& component_id,
                                  bool enabled) {
    return manager_.desired_enable(revision, component_id, enabled);
}

Status ManagerTarget::set_isolation(std::uint64_t revision, const std::string& component_id,
                                    const std::optional<std::string>& isolation,
                                    const std::optional<registry::Limits>& limits,
                                    const std::optional<registry::RunAs>& run_as) {
    return manager_.desired_isolation(revision, component_id, isolation, limits, run_as);
}

Status ManagerTarget::set_config(std::uint64_t revision, const std::string& component_id,
                                 const std::string& config_json) {
    return manager_.desired_config(revision, component_id, config_json);
}

}  // namespace lucid::host::fleet
