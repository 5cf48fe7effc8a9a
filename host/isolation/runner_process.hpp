// One lucid-plugin-runner child: started with posix_spawn in a process group of its own, one end
// of a socketpair as its fd 3; killed as a group (whatever the plugin forked goes too); reaped
// and its end described ("crashed: SIGSEGV", "exited with status 3").
//
//   auto child = RunnerProcess::spawn(runner_path(), {"--component", "echo"});
//   write(child.value()->fd(), ...);
//   child.value()->kill();
//   RunnerProcess::Exit how = child.value()->reap(std::chrono::seconds(1));
//
// Thread: kill() and rss_bytes() from any thread; reap() from one. Errors: spawn's text names
// the runner file and errno.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/expected.hpp"
#include "common/unique_fd.hpp"

namespace lucid::host::isolation {

// lucid-plugin-runner beside the agent's own executable (the setting LUCID_PLUGIN_RUNNER is the
// agent's config: AgentConfig::plugin_runner).
std::filesystem::path runner_path();

class RunnerProcess {
  public:
    static Expected<std::unique_ptr<RunnerProcess>> spawn(const std::filesystem::path& runner,
                                                          const std::vector<std::string>& args);
    ~RunnerProcess();  // kills and reaps a child still there
    RunnerProcess(const RunnerProcess&) = delete;
    RunnerProcess& operator=(const RunnerProcess&) = delete;

    int fd() const { return fd_.get(); }
    pid_t pid() const { return pid_; }
    // Shuts the socket down both ways (the fd stays open until destruction, so that a thread
    // reading it never reads a reused fd): the runner leaves when it reads the end of the
    // stream, a reader here gets end-of-file.
    void shutdown_socket();
    void kill();  // SIGKILL to the process group

    struct Exit {
        bool signaled = false;
        int signal = 0;  // when signaled
        int code = 0;    // when not
        // "crashed: SIGSEGV", "exited with status 3", "exited" (status 0)
        std::string describe() const;
    };
    // Waits up to `grace` for the child to end on its own, then kills it; returns how it ended.
    Exit reap(std::chrono::milliseconds grace);
    bool reaped() const { return reaped_; }

    // The child's resident memory (VmRSS), nullopt once it is gone.
    std::optional<std::uint64_t> rss_bytes() const;

  private:
    static Expected<std::unique_ptr<RunnerProcess>> spawn_here(
        const std::filesystem::path& runner, const std::vector<std::string>& args);
    RunnerProcess(pid_t pid, UniqueFd fd, UniqueFd pidfd);
    pid_t pid_;
    UniqueFd fd_;
    UniqueFd pidfd_;  // to wait with a timeout
    std::atomic<bool> reaped_{false};
    Exit exit_;
};

}  // namespace lucid::host::isolation
