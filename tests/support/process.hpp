// A child process (mosquitto, lucid-agent, lucidctl, a raw baseline client) started with
// posix_spawn: its own environment, stdout+stderr to a log file, stopped by a signal. Owns the
// child: the destructor kills it if it is still running.
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

namespace lucid::test {

using Env = std::map<std::string, std::string>;

class Process {
  public:
    Process() = default;
    ~Process();  // SIGKILL if still running
    Process(const Process&) = delete;
    Process& operator=(const Process&) = delete;
    Process(Process&& other) noexcept;
    Process& operator=(Process&& other) noexcept;

    // argv[0] is a path. `env` replaces the environment entirely (plus PATH, HOME and the
    // sanitizer settings of the caller); stdout and stderr are appended to `log_file`.
    // A program of this test's own architecture starts under the emulator when there is one
    // (test_emulator(): a cross-built suite under qemu-user, which has no binfmt to do it).
    void start(const std::vector<std::string>& argv, const Env& env,
               const std::filesystem::path& log_file);
    bool running() const { return pid_ > 0; }
    pid_t pid() const { return pid_; }

    void signal(int signo);
    // Waits for the exit; returns the exit code (128+signal when killed), nullopt on timeout.
    std::optional<int> wait_exit(std::chrono::milliseconds timeout);
    // Signal and wait; SIGKILL after the timeout.
    int stop(int signo = SIGTERM, std::chrono::milliseconds timeout = std::chrono::seconds(10));

    std::string log() const;  // "" before anything was written
    const std::filesystem::path& log_file() const { return log_file_; }

  private:
    pid_t pid_ = -1;
    std::filesystem::path log_file_;
};

// The emulator a cross-built test suite runs its programs under (scripts/cross.sh): the words
// of LUCID_TEST_EMULATOR (e.g. "/usr/bin/qemu-aarch64"), else those the build was configured
// with (CMAKE_CROSSCOMPILING_EMULATOR); empty natively. LUCID_TEST_EMULATOR= turns it off.
std::vector<std::string> test_emulator();

// `argv` as it must be spawned: under test_emulator() when argv[0] is an ELF file of this test
// program's own machine (lucid-agent, lucidctl, lucid-plugin-runner of the same build), as is
// otherwise (this machine's mosquitto, /bin/sh).
std::vector<std::string> with_emulator(const std::vector<std::string>& argv);

// Runs a program to completion and returns {exit code, combined output}.
std::pair<int, std::string> run_to_completion(const std::vector<std::string>& argv, const Env& env);

}  // namespace lucid::test
