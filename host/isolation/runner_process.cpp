#include "isolation/runner_process.hpp"

#include "common/own_executable.hpp"
#include "isolation/child_environment.hpp"

#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <fstream>
#include <functional>
#include <future>
#include <mutex>
#include <thread>

extern char** environ;

namespace lucid::host::isolation {
namespace fs = std::filesystem;

fs::path runner_path() { return beside_own_executable("lucid-plugin-runner"); }

RunnerProcess::RunnerProcess(pid_t pid, UniqueFd fd, UniqueFd pidfd)
    : pid_(pid), fd_(std::move(fd)), pidfd_(std::move(pidfd)) {}

RunnerProcess::~RunnerProcess() {
    if (!reaped_) {
        kill();
        reap(std::chrono::milliseconds(0));
    }
}

namespace {

// The kernel sends PR_SET_PDEATHSIG when the *thread* that forked the child ends, not the
// process: runners are spawned from this one thread, which lives as long as the agent, so that
// a command lane or a guard thread ending never kills a plugin.
class Spawner {
  public:
    static Spawner& instance() {
        static auto* spawner = new Spawner();  // never destroyed: its thread runs to exit
        return *spawner;
    }
    template <class F>
    auto run(F&& work) {
        std::packaged_task<decltype(work())()> task(std::forward<F>(work));
        auto result = task.get_future();
        {
            std::lock_guard<std::mutex> lock(mutex_);
            queue_.emplace_back([&task] { task(); });
        }
        cv_.notify_one();
        return result.get();
    }

  private:
    Spawner() {
        std::thread([this] {
            for (;;) {
                std::function<void()> job;
                {
                    std::unique_lock<std::mutex> lock(mutex_);
                    cv_.wait(lock, [&] { return !queue_.empty(); });
                    job = std::move(queue_.front());
                    queue_.pop_front();
                }
                job();
            }
        }).detach();
    }
    std::mutex mutex_;
    std::condition_variable cv_;
    std::deque<std::function<void()>> queue_;
};

}  // namespace

Expected<std::unique_ptr<RunnerProcess>> RunnerProcess::spawn(
    const fs::path& runner, const std::vector<std::string>& args) {
    return Spawner::instance().run([&] { return spawn_here(runner, args); });
}

Expected<std::unique_ptr<RunnerProcess>> RunnerProcess::spawn_here(
    const fs::path& runner, const std::vector<std::string>& args) {
    int pair[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
        return Error{Errc::io, std::string("socketpair: ") + strerror(errno)};
    }
    UniqueFd mine(pair[0]), theirs(pair[1]);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    // dup2 clears FD_CLOEXEC on the copy; every other descriptor above 2 is closed: fd 3 is the
    // only descriptor of ours the runner keeps. Not only what lacks FD_CLOEXEC by mistake: the
    // broker connection (libmosquitto's socket is inheritable), its wakeup pipe, what the
    // agent's parent left open — a plugin must not write MQTT packets on the agent's session.
    posix_spawn_file_actions_adddup2(&actions, theirs.get(), 3);
    posix_spawn_file_actions_addclosefrom_np(&actions, 4);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    posix_spawnattr_setpgroup(&attr, 0);  // its own process group: killed as one
    sigset_t none;
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&attr, &none);
    sigset_t defaults;
    sigfillset(&defaults);
    posix_spawnattr_setsigdefault(&attr, &defaults);
    posix_spawnattr_setflags(
        &attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

    std::vector<std::string> argv_text{runner.string(), "--fd", "3", "--parent",
                                       std::to_string(::getpid())};
    argv_text.insert(argv_text.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : argv_text) argv.push_back(a.data());
    argv.push_back(nullptr);

    std::vector<std::string> env_text = child_environment(environ);
    std::vector<char*> env;
    for (auto& e : env_text) env.push_back(e.data());
    env.push_back(nullptr);

    pid_t pid = 0;
    const int rc = posix_spawn(&pid, runner.c_str(), &actions, &attr, argv.data(), env.data());
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    if (rc != 0) {
        return Error{Errc::io, "cannot start " + runner.string() + ": " + strerror(rc)};
    }
    UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
    return std::unique_ptr<RunnerProcess>(
        new RunnerProcess(pid, std::move(mine), std::move(pidfd)));
}

void RunnerProcess::shutdown_socket() { ::shutdown(fd_.get(), SHUT_RDWR); }

void RunnerProcess::kill() {
    if (reaped_) return;
    ::kill(-pid_, SIGKILL);  // the group: the plugin's own children too
    ::kill(pid_, SIGKILL);   // in case it left the group
}

RunnerProcess::Exit RunnerProcess::reap(std::chrono::milliseconds grace) {
    if (reaped_) return exit_;
    if (pidfd_.valid()) {
        pollfd p{pidfd_.get(), POLLIN, 0};
        int rc;
        do {
            rc = ::poll(&p, 1, static_cast<int>(grace.count()));
        } while (rc < 0 && errno == EINTR);
        if (rc == 0) kill();
    } else {
        const auto until = std::chrono::steady_clock::now() + grace;
        int status = 0;
        while (::waitpid(pid_, &status, WNOHANG) == 0) {
            if (std::chrono::steady_clock::now() >= until) {
                kill();
                break;
            }
            ::usleep(1000);
        }
    }
    int status = 0;
    pid_t got;
    do {
        got = ::waitpid(pid_, &status, 0);
    } while (got < 0 && errno == EINTR);
    ::kill(-pid_, SIGKILL);  // what the plugin forked and left behind in the group
    reaped_ = true;
    if (got == pid_ && WIFSIGNALED(status)) {
        exit_.signaled = true;
        exit_.signal = WTERMSIG(status);
    } else if (got == pid_ && WIFEXITED(status)) {
        exit_.code = WEXITSTATUS(status);
    }
    return exit_;
}

std::string RunnerProcess::Exit::describe() const {
    if (signaled) {
        const char* abbrev = sigabbrev_np(signal);
        return std::string("crashed: ") +
               (abbrev ? std::string("SIG") + abbrev : "signal " + std::to_string(signal));
    }
    return code == 0 ? "exited" : "exited with status " + std::to_string(code);
}

std::optional<std::uint64_t> RunnerProcess::rss_bytes() const {
    if (reaped_) return std::nullopt;
    std::ifstream statm("/proc/" + std::to_string(pid_) + "/statm");
    std::uint64_t size = 0, resident = 0;
    if (!(statm >> size >> resident)) return std::nullopt;
    return resident * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
}

}  // namespace lucid::host::isolation
