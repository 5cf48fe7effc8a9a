// A program started as a real process (the agent, lucidctl, a raw baseline client, mosquitto).
// Owns the child: the destructor kills it if it is still running.
// Thread: one owner thread. Errors: start() throws std::runtime_error.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace lucid::bench {

using Env = std::map<std::string, std::string>;

class ChildProcess {
  public:
    ChildProcess() = default;
    ChildProcess(const ChildProcess&) = delete;
    ChildProcess& operator=(const ChildProcess&) = delete;
    ChildProcess(ChildProcess&& other) noexcept;
    ChildProcess& operator=(ChildProcess&& other) noexcept;
    ~ChildProcess();

    // argv[0] is a path. The child gets PATH and HOME of the bench plus `env`, and writes its
    // stdout and stderr to `log` (appended).
    void start(const std::vector<std::string>& argv, const Env& env,
               const std::filesystem::path& log);
    pid_t pid() const { return pid_; }
    bool running() const { return pid_ > 0; }
    void signal(int signo);
    // The exit code (128+signal when killed), or nullopt when still running at the timeout.
    std::optional<int> wait_exit(std::chrono::milliseconds timeout);
    // signo, then SIGKILL when it has not exited within `timeout`.
    int stop(int signo = SIGTERM, std::chrono::milliseconds timeout = std::chrono::seconds(5));

  private:
    pid_t pid_ = -1;
};

// VmRSS of a live process in KiB (from /proc/<pid>/status), nullopt when unreadable.
std::optional<long> rss_kib(pid_t pid);

// The whole text of a file ("" when it cannot be read).
std::string read_text(const std::filesystem::path& file);

}  // namespace lucid::bench
