// A pending build's way to commit itself (contract §8.15). The launcher started it once; it
// commits (state.json: committed, the committed one previous, last_upgrade committed) as soon as
// it is online and healthy: connected, its status published, its components started. When that
// has not happened within the window (LUCID_UPGRADE_COMMIT_S, default 60 s) it gives up: the
// agent exits non-zero, the service manager starts `lucid-agent run` again, and the launcher,
// finding the attempt used, rolls back. A build that hangs instead is stopped by the systemd
// watchdog (WatchdogSec=60), with the same outcome.
//
// After a commit only the committed and the previous build are kept in {data}/agent/.
//
// Thread: healthy() from any thread; `give_up` runs on the window's own thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "self_update/agent_versions.hpp"

namespace lucid::host::self_update {

class CommitWindow {
  public:
    using GiveUp = std::function<void(const std::string& why)>;

    // nullptr unless this process is the pending build: started by a launcher (launcher.hpp)
    // as `version`, which state.json names as pending.
    static std::unique_ptr<CommitWindow> start_if_pending(const std::filesystem::path& data_dir,
                                                          const std::string& version,
                                                          std::chrono::milliseconds window,
                                                          GiveUp give_up);
    CommitWindow(std::filesystem::path data_dir, std::string version,
                 std::chrono::milliseconds window, GiveUp give_up);
    ~CommitWindow();
    CommitWindow(const CommitWindow&) = delete;
    CommitWindow& operator=(const CommitWindow&) = delete;

    // Commits this build, once; false (logged) when the state cannot be saved (the window goes
    // on: a build that cannot record its commit is not committed).
    bool healthy();

  private:
    void watch(std::chrono::milliseconds window);

    const std::filesystem::path data_dir_;
    const std::string version_;
    const GiveUp give_up_;
    std::mutex mutex_;
    std::condition_variable changed_;
    bool committed_ = false;
    bool stopping_ = false;
    std::thread thread_;
};

// Removes every build directory in {data}/agent/ that the state does not name (committed,
// previous, pending). Errors are ignored (tried again after the next commit).
void remove_unnamed_builds(const std::filesystem::path& data_dir, const AgentVersions& state);

}  // namespace lucid::host::self_update
