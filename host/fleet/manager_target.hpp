// The desired state's port (desired_target.hpp) over the agent's ComponentManager.
// Thread: as DesiredTarget. Errors: the manager's Status, passed through.
#pragma once

#include "components/component_manager.hpp"
#include "fleet/desired_target.hpp"

namespace lucid::host::fleet {

class ManagerTarget final : public DesiredTarget {
  public:
    explicit ManagerTarget(components::ComponentManager& manager) : manager_(manager) {}

    std::map<std::string, InstalledComponent> installed() const override;
    Status check_install(const DesiredInstallStep& step) const override;
    Status install(const DesiredInstallStep& step) override;
    Status uninstall(std::uint64_t revision, const std::string& component_id) override;
    Status set_enabled(std::uint64_t revision, const std::string& component_id,
                       bool enabled) override;
    Status set_config(std::uint64_t revision, const std::string& component_id,
                      const std::string& config_json) override;
    Status set_isolation(std::uint64_t revision, const std::string& component_id,
                         const std::optional<std::string>& isolation,
                         const std::optional<registry::Limits>& limits,
                         const std::optional<registry::RunAs>& run_as) override;

  private:
    components::ComponentManager& manager_;
};

}  // namespace lucid::host::fleet
