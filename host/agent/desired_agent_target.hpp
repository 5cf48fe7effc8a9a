// The agent's self-update as the desired state's `agent` step sees it (fleet/agent_target.hpp):
// core/cmd/upgrade's pipeline (agent/upgrade_command.hpp: place_upgrade) under the request id
// `desired revision <n>`, state.json (self_update/agent_versions.hpp) for how that revision's
// update ended, and the commit of a pending build (agent/self_upgrade.hpp).
//
// Thread: the desired state's lane.
#pragma once

#include "agent/agent.hpp"
#include "agent/self_upgrade.hpp"
#include "agent/upgrade_command.hpp"
#include "fleet/agent_target.hpp"

namespace lucid::host::agent {

class DesiredAgentTarget : public fleet::AgentTarget {
  public:
    DesiredAgentTarget(Agent& agent, SelfUpgrade& self_upgrade, UpgradeCommandSettings settings);

    std::string version() const override;
    Status check_update(const fleet::DesiredAgentStep& step) const override;
    fleet::AgentUpdateRecord record(const fleet::DesiredAgentStep& step) const override;
    Status await_commit(const fleet::DesiredAgentStep& step) override;
    Status place(const fleet::DesiredAgentStep& step) override;
    void hand_over() override;

  private:
    Expected<self_update::UpgradeRequest> request_of(const fleet::DesiredAgentStep& step) const;

    Agent& agent_;
    SelfUpgrade& self_upgrade_;
    const UpgradeCommandSettings settings_;
};

}  // namespace lucid::host::agent
