// Which build of the agent `lucid-agent run` becomes (contract §8.15): the launcher's decision,
// a pure function of the state file and the packaged binary's own version, so that every path
// (first start of a pending build, its rollback, a package upgrade that overtakes a self-update)
// is a unit test.
//
//   pending, attempt left, newer than the package → exec it, its attempt counted first
//   pending, attempt used up                     → roll it back (last_upgrade rolled_back), then:
//   committed newer than the package             → exec the committed build
//   otherwise                                    → run the packaged binary itself
//
// A package newer than (or as new as) every self-updated build wins: the package manager's
// install is what the operator did last. A pending build it overtakes is rolled back with that
// reason. Thread: pure.
#pragma once

#include <optional>
#include <string>

#include "self_update/agent_versions.hpp"

namespace lucid::host::self_update {

struct LaunchDecision {
    std::optional<std::string> exec_version;  // nullopt: the packaged binary runs itself
    bool exec_pending = false;                // exec_version is the pending build
    AgentVersions state;                      // to be saved (durably) before the exec
    bool save = false;                        // state differs from what was read
    std::string why;                          // for the log line
};

// `packaged_version`: this binary's own version; `now`: the contract's timestamp, for a rollback.
LaunchDecision decide_launch(const AgentVersions& state, const std::string& packaged_version,
                             const std::string& now);

// The pending build given up: last_upgrade says rolled_back with `reason`, pending is gone.
AgentVersions roll_back(AgentVersions state, const std::string& reason, const std::string& now);

// The pending build `version` came up healthy: it becomes committed, the committed one previous,
// and last_upgrade says committed (not reported yet).
AgentVersions commit(AgentVersions state, const std::string& version, const std::string& now);

}  // namespace lucid::host::self_update
