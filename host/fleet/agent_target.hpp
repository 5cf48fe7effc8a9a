// What the desired state (desired_state.hpp) needs to update the agent itself (contract §4.11
// `agent`): the port the agent plugs its self-update into (agent/desired_agent_target.hpp) and
// unit tests a fake into. The update is core/cmd/upgrade's own pipeline (contract §4.16): the
// same sources, sha256, signature policy, checks and placement; then the agent hands over to
// the new build (the process ends) and the launcher starts it (§8.15).
//
// A document's update is tried once: the pending build is placed for the request id
// `desired revision <n>` (self_update/upgrade_request.hpp), which state.json's last_upgrade
// keeps, so the build that runs next (the new one, or the old one after a rollback) finds out
// how that revision's update ended.
//
// Thread: called from the desired state's lane only. Errors: Status, the upgrade's error text.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "common/expected.hpp"

namespace lucid::host::fleet {

struct DesiredAgentStep {
    std::uint64_t revision = 0;
    std::string version;
    std::string source_json;  // the upgrade `source` for this agent's platform
    // Set to give up a download, broker fetch or wait under way (a newer document, a stop).
    std::shared_ptr<std::atomic<bool>> cancelled;
};

// How the update a revision asked for ended, as state.json tells it.
enum class AgentUpdate {
    none,         // not tried for this revision
    pending,      // handed over; this build is the pending one, not committed yet
    committed,    // the new build committed itself
    rolled_back,  // the launcher rolled it back (`reason`)
};

struct AgentUpdateRecord {
    AgentUpdate state = AgentUpdate::none;
    std::string reason;
};

class AgentTarget {
  public:
    virtual ~AgentTarget() = default;
    // The running build's version.
    virtual std::string version() const = 0;
    // Whether core/cmd/upgrade would take this source, before anything changes.
    virtual Status check_update(const DesiredAgentStep& step) const = 0;
    virtual AgentUpdateRecord record(const DesiredAgentStep& step) const = 0;
    // This build is the pending one: waits until it committed itself (error: it gave up, or
    // the wait was cancelled).
    virtual Status await_commit(const DesiredAgentStep& step) = 0;
    // Fetches, verifies and places the build as pending (nothing changes on an error).
    virtual Status place(const DesiredAgentStep& step) = 0;
    // Ends this process so that the launcher starts the pending build (after place()).
    virtual void hand_over() = 0;
};

}  // namespace lucid::host::fleet
