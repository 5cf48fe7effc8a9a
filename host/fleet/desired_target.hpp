// What the desired state (desired_state.hpp) needs from the components: the port the agent plugs
// ComponentManager into (manager_target.hpp) and unit tests a fake into. Every operation goes
// through the same pipeline, signature policy and ownership rules as the commands.
//
// Thread: called from the desired state's lane only. Errors: Status, the commands' error text.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "common/expected.hpp"

namespace lucid::host::fleet {

struct InstalledComponent {
    std::string version;
    bool enabled = true;
    std::string config_json = "{}";
    bool running = false;
    std::string isolation = "in_process";  // where it runs now (its own, else the default)
    registry::Limits limits;
    registry::RunAs run_as{};  // the agent's user unless the entry names one
    // Installed under a signing key revoked since (contract §8.14): the document's artifact is
    // installed again, so that a build signed anew replaces the revoked signature.
    bool signer_revoked = false;
};

struct DesiredInstallStep {
    std::uint64_t revision = 0;
    std::string component_id;
    std::string version;
    std::string source_json;  // the install `source` for this agent's platform
    std::optional<std::string> config_json;
    std::optional<std::string> isolation;
    std::optional<registry::Limits> limits;
    std::optional<registry::RunAs> run_as;
    // Set to give up a download or broker fetch under way (a newer document, the agent stopping).
    std::shared_ptr<std::atomic<bool>> cancelled;
    // The component's allow_downgrade, the document's rollout and rollback_of (version floors).
    bool allow_downgrade = false;
    std::string rollout;
    std::string rollback_of;
    std::optional<std::string> rollback_permit;
};

class DesiredTarget {
  public:
    virtual ~DesiredTarget() = default;
    virtual std::map<std::string, InstalledComponent> installed() const = 0;
    // Whether the install command `step` stands for is valid, before anything changes.
    virtual Status check_install(const DesiredInstallStep& step) const = 0;
    virtual Status install(const DesiredInstallStep& step) = 0;
    virtual Status uninstall(std::uint64_t revision, const std::string& component_id) = 0;
    // Sets the boot flag and makes it so now: started when enabled, stopped when not.
    virtual Status set_enabled(std::uint64_t revision, const std::string& component_id,
                               bool enabled) = 0;
    virtual Status set_config(std::uint64_t revision, const std::string& component_id,
                              const std::string& config_json) = 0;
    // Where it runs, its limits and its user (core/cmd/components/configure); none: left as it
    // is.
    virtual Status set_isolation(std::uint64_t revision, const std::string& component_id,
                                 const std::optional<std::string>& isolation,
                                 const std::optional<registry::Limits>& limits,
                                 const std::optional<registry::RunAs>& run_as) = 0;
};

}  // namespace lucid::host::fleet
