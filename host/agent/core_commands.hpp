// The core commands (contract §4): ping, refresh, restart, cfg/set. Each is a CommandSpec for
// the CommandDispatcher; what they act on is behind CoreCommandTarget, so that the handlers are
// testable without a broker.
//
// Thread: handlers run on the fast lane (one worker), so cfg/set's read-modify-write of the
// config cannot interleave with another cfg/set.
#pragma once

#include <string>
#include <vector>

#include "agent/core_config.hpp"
#include "commands/command_dispatcher.hpp"
#include "commands/restart_policy.hpp"
#include "contract/topics.hpp"

namespace lucid::host::agent {

class CoreCommandTarget {
  public:
    virtual ~CoreCommandTarget() = default;
    // Republishes every retained snapshot; returns the names of those published (refresh's
    // `snapshots_updated`, named as SnapshotPublisher says).
    virtual std::vector<std::string> republish_snapshots() = 0;
    virtual CoreConfig current_config() const = 0;
    // Saves the config and records `answer` (the cfg/set's result) in one durable write (throws
    // on failure: nothing changed, nothing recorded), applies it live, republishes
    // core/cfg/state.
    virtual void apply_config(const CoreConfig& config, const commands::DedupEntry& answer) = 0;
    // Ends the agent with `exit_code` through the normal clean shutdown.
    virtual void request_exit(int exit_code) = 0;
};

struct RestartSettings {
    bool supervised = false;
    const commands::RestartRecord* record = nullptr;  // must outlive the specs
};

std::vector<commands::CommandSpec> core_command_specs(const contract::AgentTopics& topics,
                                                      CoreCommandTarget& target,
                                                      RestartSettings restart);

}  // namespace lucid::host::agent
