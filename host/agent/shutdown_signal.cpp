#include "agent/shutdown_signal.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <system_error>

#include "common/logging.hpp"

namespace lucid::host::agent {
namespace {

sigset_t shutdown_signals() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);  // a reload, not an end: see on_reload()
    return set;
}

}  // namespace

ShutdownSignal::ShutdownSignal() {
    const sigset_t set = shutdown_signals();
    if (pthread_sigmask(SIG_BLOCK, &set, nullptr) != 0) {
        throw std::system_error(errno, std::generic_category(), "pthread_sigmask");
    }
    signal_fd_ = signalfd(-1, &set, SFD_CLOEXEC);
    if (signal_fd_ < 0) throw std::system_error(errno, std::generic_category(), "signalfd");
    event_fd_ = eventfd(0, EFD_CLOEXEC);
    if (event_fd_ < 0) {
        close(signal_fd_);
        throw std::system_error(errno, std::generic_category(), "eventfd");
    }
}

ShutdownSignal::~ShutdownSignal() {
    close(signal_fd_);
    close(event_fd_);
}

void ShutdownSignal::request(int exit_code) {
    requested_code_ = exit_code;
    const std::uint64_t one = 1;
    // A failed write is impossible short of 2^64 requests; nothing useful to do about it.
    [[maybe_unused]] auto n = write(event_fd_, &one, sizeof(one));
}

void ShutdownSignal::on_reload(std::function<void()> handler) {
    std::lock_guard<std::mutex> lock(reload_mutex_);
    reload_ = std::move(handler);
}

void ShutdownSignal::reload() {
    std::function<void()> handler;
    {
        std::lock_guard<std::mutex> lock(reload_mutex_);
        handler = reload_;
    }
    if (!handler) {
        logger("agent")->warn("received SIGHUP before the agent could reload; ignored");
        return;
    }
    try {
        handler();
    } catch (const std::exception& e) {
        // A failed reload must never end the agent: it keeps what it runs with.
        logger("agent")->error("reload failed: {}; keeping the running configuration", e.what());
    }
}

int ShutdownSignal::wait() {
    pollfd fds[2] = {{signal_fd_, POLLIN, 0}, {event_fd_, POLLIN, 0}};
    while (true) {
        const int rc = poll(fds, 2, -1);
        if (rc < 0) {
            if (errno == EINTR) continue;
            logger("agent")->error("poll on shutdown descriptors failed; shutting down");
            return 1;
        }
        if (fds[0].revents & POLLIN) {
            signalfd_siginfo info{};
            [[maybe_unused]] auto n = read(signal_fd_, &info, sizeof(info));
            if (info.ssi_signo == SIGHUP) {
                reload();
                continue;
            }
            logger("agent")->info("received signal {}; shutting down",
                                  info.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM");
            return 0;
        }
        if (fds[1].revents & POLLIN) {
            std::uint64_t value = 0;
            [[maybe_unused]] auto n = read(event_fd_, &value, sizeof(value));
            return requested_code_.load();
        }
    }
}

}  // namespace lucid::host::agent
