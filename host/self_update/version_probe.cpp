#include "self_update/version_probe.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/unique_fd.hpp"

extern char** environ;

namespace lucid::host::self_update {
namespace fs = std::filesystem;

namespace {

constexpr std::size_t kMaxOutput = 4096;

int remaining_ms(std::chrono::steady_clock::time_point deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    return left.count() < 0 ? 0 : static_cast<int>(left.count());
}

// Waits for `pid` until `deadline` (a pidfd to poll on: no sleep); kills it after that.
// Returns the wait status, or nullopt when it had to be killed.
std::optional<int> wait_until(pid_t pid, std::chrono::steady_clock::time_point deadline) {
    const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    if (pidfd >= 0) {
        pollfd p{pidfd, POLLIN, 0};
        ::poll(&p, 1, remaining_ms(deadline));
        ::close(pidfd);
    }
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) return status;
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
    return std::nullopt;
}

}  // namespace

Expected<std::string> probe_version(const fs::path& binary, std::chrono::milliseconds timeout) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) {
        return Error{Errc::io,
                     std::string("cannot run ") + binary.string() + ": " + std::strerror(errno)};
    }
    UniqueFd read_end(fds[0]);
    UniqueFd write_end(fds[1]);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, write_end.get(), 1);
    posix_spawn_file_actions_adddup2(&actions, write_end.get(), 2);
    std::string program = binary.string();
    std::string flag = "--version";
    char* argv[] = {program.data(), flag.data(), nullptr};
    pid_t pid = -1;
    const int spawned = ::posix_spawn(&pid, program.c_str(), &actions, nullptr, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    if (spawned != 0) {
        return Error{Errc::invalid, "cannot run " + program + ": " + std::strerror(spawned)};
    }
    write_end = UniqueFd();  // EOF once the child (and whatever it started) closed its end
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::string output;
    while (output.size() < kMaxOutput) {
        pollfd p{read_end.get(), POLLIN, 0};
        if (::poll(&p, 1, remaining_ms(deadline)) <= 0) break;
        char buf[1024];
        const ssize_t n = ::read(read_end.get(), buf, sizeof buf);
        if (n <= 0) break;
        output.append(buf, static_cast<std::size_t>(std::min<ssize_t>(
                               n, static_cast<ssize_t>(kMaxOutput - output.size()))));
    }
    const auto status = wait_until(pid, deadline);
    const std::string ran = program + " --version";
    if (!status) {
        return Error{Errc::invalid, ran + " did not finish within " +
                                        std::to_string(timeout.count()) + " ms (killed)"};
    }
    if (WIFSIGNALED(*status)) {
        return Error{Errc::invalid,
                     ran + " was killed by signal " + std::to_string(WTERMSIG(*status))};
    }
    if (WEXITSTATUS(*status) != 0) {
        while (!output.empty() && (output.back() == '\n' || output.back() == '\r')) {
            output.pop_back();
        }
        return Error{Errc::invalid,
                     ran + " exited " + std::to_string(WEXITSTATUS(*status)) + ": " + output};
    }
    return output;
}

std::string printed_version(const std::string& output) {
    const std::string prefix = "lucid-agent ";
    if (output.rfind(prefix, 0) != 0) return "";
    const auto end = output.find('\n');
    if (end == std::string::npos) return "";
    return output.substr(prefix.size(), end - prefix.size());
}

}  // namespace lucid::host::self_update
