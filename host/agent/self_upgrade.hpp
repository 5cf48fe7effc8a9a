// The agent's side of upgrading itself once the launcher started it (contract §4.16, §8.15):
//   - a pending build commits itself when it is online (connected, its snapshots published,
//     its components started before run()) or gives up after its window
//     (self_update/commit_window.hpp): `exit` ends the agent non-zero, the launcher rolls back;
//   - whichever build ends up running publishes the final core/evt/upgrade_result of the last
//     upgrade once (state.json's last_upgrade until `reported`), recorded in the request log
//     first, so that a copy of the command gets the same answer;
//   - `status` carries last_upgrade.
//
// Thread: construct on the main thread before run(); online() runs on the connect lane.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>

#include "agent/agent.hpp"
#include "self_update/agent_versions.hpp"
#include "self_update/commit_window.hpp"

namespace lucid::host::agent {

class SelfUpgrade {
  public:
    SelfUpgrade(Agent& agent, std::function<void(int exit_code)> exit);
    ~SelfUpgrade();

    // Agent::on_online.
    void online();
    // Waits until this build, started as the pending one, committed itself; true at once for
    // any other build. False when `timeout` passed or `cancelled` was set first. Any thread.
    bool await_commit(std::chrono::milliseconds timeout,
                      const std::shared_ptr<std::atomic<bool>>& cancelled);

    // What a pending build that gave up exits with (main_agent.cpp's exit codes).
    static constexpr int kNotCommittedExit = 3;

  private:
    // Reads state.json's last_upgrade into `status`; returns the state (empty when unreadable).
    self_update::AgentVersions refresh_status();
    void report(const self_update::LastUpgrade& last);

    Agent& agent_;
    std::mutex mutex_;  // one online() at a time (the connect lane is one thread; a test's own)
    std::unique_ptr<self_update::CommitWindow> window_;  // under mutex_ once run() started
    std::condition_variable committed_;
};

}  // namespace lucid::host::agent
