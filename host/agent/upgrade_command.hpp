// `core/cmd/upgrade` (contract §4.16): the agent replaces itself. On the slow lane, like
// installs: the build is fetched, verified and placed as the pending build
// (self_update/build_placement.hpp), progress goes to core/evt/upgrade_progress, and the last
// progress, `phase: "handover"`, is published instead of a result; then the agent exits 75 and
// the service manager starts `lucid-agent run` again, whose launcher starts the new build. The
// final result of the request is published once by the build that ends up running
// (agent/self_upgrade.hpp).
//
// Refused before anything is fetched: an agent that is not supervised (nobody would start it
// again), a pending build that has not committed yet, a version that is not newer than the
// running one. The running version itself is `ok:true, noop:true`.
//
// Thread: the handler runs on the slow lane.
#pragma once

#include <atomic>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "agent/agent.hpp"
#include "install/artifact_verifier.hpp"
#include "install/install_request.hpp"
#include "self_update/upgrade_request.hpp"

namespace lucid::host::agent {

struct UpgradeCommandSettings {
    bool supervised = false;
    std::filesystem::path runner;  // this agent's lucid-plugin-runner, copied beside the build
    // The rules in force now (a SIGHUP may have changed the keys): one snapshot per upgrade.
    std::function<install::InstallSettings()> install;
    std::function<install::VerifierSettings()> verifier;
    // Ends the agent with this exit code (75 after the handover).
    std::function<void(int)> exit;
};

// Refuses (not supervised, a pending build, not newer), fetches (a broker source through the
// agent's session, install/broker_fetch.hpp), verifies and places `request` as the pending build
// for `request_id`: what core/cmd/upgrade and a desired state's `agent` (desired_agent_target)
// both do before handing over. `cancelled` (null: the agent's own download flag) gives up a
// download or broker fetch under way. Errors: the upgrade result's text (contract §4.16).
Status place_upgrade(Agent& agent, const UpgradeCommandSettings& settings,
                     self_update::UpgradeRequest request, const std::string& request_id,
                     const install::ProgressFn& progress,
                     const std::shared_ptr<std::atomic<bool>>& cancelled = nullptr);

// Adds the command to the agent's dispatcher, router and subscriptions. Call before run().
void add_upgrade_command(Agent& agent, UpgradeCommandSettings settings);

}  // namespace lucid::host::agent
