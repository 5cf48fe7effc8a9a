// A child process started with fork/exec: its own environment, stdout+stderr to a log file,
// stopped by a signal. Used for mosquitto and for lucid-agent.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace lucid::itest {

class Process {
  public:
    Process() = default;
    ~Process();  // SIGKILL if still running
    Process(const Process&) = delete;
    Process& operator=(const Process&) = delete;

    // `env` replaces the environment entirely (plus PATH/HOME of the test, for sanity).
    void start(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
               const std::filesystem::path& log_file);
    bool running() const { return pid_ > 0; }
    pid_t pid() const { return pid_; }

    void signal(int signo);
    // Waits for the exit; returns the exit code (128+signal when killed), nullopt on timeout.
    std::optional<int> wait_exit(std::chrono::milliseconds timeout);
    // Signal and wait; SIGKILL after the timeout.
    int stop(int signo, std::chrono::milliseconds timeout = std::chrono::seconds(10));

    std::string log() const;
    const std::filesystem::path& log_file() const { return log_file_; }

  private:
    pid_t pid_ = -1;
    std::filesystem::path log_file_;
};

// Runs a program to completion and returns {exit code, combined output}.
std::pair<int, std::string> run_to_completion(const std::vector<std::string>& argv,
                                              const std::map<std::string, std::string>& env);

}  // namespace lucid::itest
