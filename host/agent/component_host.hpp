// Plugin hosting inside the agent: the ComponentManager wired to the agent's MQTT session,
// router, command dispatcher and snapshots, and the drop-in directory watched for artifacts.
//
//   agent::Agent agent(config, shutdown);
//   components::ComponentHost host(agent, keys);   // keys: install::load_trusted_keys()
//   host.start();          // boot the registry's components, watch the drop-in directory
//   int code = agent.run();
//   host.stop();
//
// Thread: construct, start and stop on the main thread. Drop-in events and desired-state
// documents are handed to lanes of their own so that neither the watcher nor the network thread
// ever blocks on an install.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "agent/agent.hpp"
#include "commands/work_lane.hpp"
#include "components/component_manager.hpp"
#include "dropin/dropin_watcher.hpp"
#include "fleet/desired_state.hpp"
#include "fleet/manager_target.hpp"
#include "install/install_policy.hpp"

namespace lucid::host::agent {

// The runtime install policy of a config and its loaded trusted keys.
install::InstallPolicy install_policy_from(const config::AgentConfig& config,
                                           std::shared_ptr<const install::TrustedKeySet> keys);

class ComponentHost {
  public:
    // `keys`: the trusted keys loaded from agent.config().trusted_keys_dir (null: none).
    ComponentHost(agent::Agent& agent, std::shared_ptr<const install::TrustedKeySet> keys);
    ~ComponentHost();  // stop()

    // How a desired state's `agent` updates the agent (agent/desired_agent_target.hpp). Before
    // start().
    void update_self_with(fleet::AgentTarget& target) { desired_->set_agent_target(&target); }
    // Loads the registry (migrating or repairing it), starts the enabled components, registers
    // the component commands and starts watching the drop-in directory.
    void start();
    // Stops watching, then stops and unloads every component. Idempotent.
    void stop();
    // Makes a running download fail at once ("cancelled"), so that shutdown does not wait for
    // it. Any thread.
    void cancel_downloads() {
        *downloads_cancelled_ = true;
        if (desired_) desired_->interrupt();
    }

    // Trusted keys, signature policy and allowed prefixes, replaced by a reload (SIGHUP). Any
    // thread.
    install::LiveInstallPolicy& install_policy() { return *policy_; }
    // What an install would take now (the policy in force folded in): the agent's own upgrade
    // (agent/upgrade_command.hpp) fetches and verifies by the same rules. Any thread.
    components::ManagerSettings current_settings() const { return settings_.with_current_policy(); }

  private:
    agent::Agent& agent_;
    std::shared_ptr<std::atomic<bool>> downloads_cancelled_ = std::make_shared<std::atomic<bool>>();
    std::shared_ptr<install::LiveInstallPolicy> policy_;
    components::ManagerSettings settings_;
    std::unique_ptr<components::ComponentManager> manager_;
    commands::WorkLane dropin_lane_{"dropin", 256};
    // The desired state (contract §4.11): applied on a lane of its own, so that its downloads
    // delay no command. Only the latest document matters: the lane coalesces them.
    std::unique_ptr<fleet::ManagerTarget> desired_target_;
    std::unique_ptr<fleet::DesiredState> desired_;
    commands::WorkLane desired_lane_{"desired", 4};
    void watch_desired_state();
    // Watches and scans the drop-in directory, unless LUCID_DROPIN=off.
    void watch_dropin_directory();
    // The directory cannot be (or is no longer) watched: logged and reported in core/state.
    void dropin_unwatched(const std::string& why);
    std::unique_ptr<dropin::DropinWatcher> watcher_;
};

}  // namespace lucid::host::agent
