// A service manager for the tests, without systemd: runs one program and starts it again when
// it exits non-zero, as the unit's Restart=on-failure does (75, the restart code, included:
// RestartForceExitStatus=75). A clean exit (0) or stop() ends it. Like StartLimitBurst=10, it
// gives up after 10 starts. The self-update tests run `lucid-agent run` under it: a pending build
// that exits is started again through the launcher, which rolls it back.
//
// Thread: the supervisor watches its child on a thread of its own; every method may be called
// from the test's thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "process.hpp"

namespace lucid::itest {

class Supervisor {
  public:
    // Every start appends its output to `log_file`.
    Supervisor(std::vector<std::string> argv, lucid::test::Env env, std::filesystem::path log_file);
    ~Supervisor();  // stop()
    Supervisor(const Supervisor&) = delete;
    Supervisor& operator=(const Supervisor&) = delete;

    void start();
    // SIGTERM to the running child, and no start after it; SIGKILL after 10 s.
    void stop();
    // `signo` to the running child, which is started again if that ends it non-zero.
    void signal(int signo);

    // Waits until the child has exited `count` times in all; returns the exit codes so far
    // (128+signal for a kill), fewer on timeout.
    std::vector<int> wait_exits(std::size_t count, std::chrono::milliseconds timeout);
    std::vector<int> exits() const;
    int starts() const;
    bool wait_for_log(const std::string& text, std::chrono::milliseconds timeout) const;
    std::string log() const;

  private:
    void watch();

    const std::vector<std::string> argv_;
    const lucid::test::Env env_;
    const std::filesystem::path log_file_;
    mutable std::mutex mutex_;
    std::condition_variable changed_;
    lucid::test::Process child_;  // started under mutex_; waited on by the watch thread
    pid_t pid_ = -1;
    std::vector<int> exits_;
    int starts_ = 0;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace lucid::itest
