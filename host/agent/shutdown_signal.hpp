// What ends the agent: SIGTERM/SIGINT (exit code 0) or an internal request such as the restart
// command (its exit code). The main thread blocks in wait(). SIGHUP does not end it: wait() runs
// the on_reload() handler on the main thread and goes on waiting (`systemctl reload`).
//
// SIGTERM, SIGINT and SIGHUP are blocked in the constructing thread and, because threads inherit
// the mask, in every thread started afterwards: construct it first in main(). They are then read
// from a signalfd, so no async-signal handler runs at all.
// Thread: request() from any thread; wait() from one thread. Errors: the constructor throws
// std::system_error when the descriptors cannot be created.
#pragma once

#include <atomic>
#include <functional>
#include <mutex>

namespace lucid::host::agent {

class ShutdownSignal {
  public:
    ShutdownSignal();
    ~ShutdownSignal();
    ShutdownSignal(const ShutdownSignal&) = delete;
    ShutdownSignal& operator=(const ShutdownSignal&) = delete;

    void request(int exit_code);
    // What SIGHUP does; until it is set, a SIGHUP is logged and ignored. An exception from the
    // handler is logged, never fatal.
    void on_reload(std::function<void()> handler);
    // Blocks until a signal or a request; returns the exit code (0 for a signal).
    int wait();

  private:
    void reload();

    int signal_fd_ = -1;
    std::mutex reload_mutex_;
    std::function<void()> reload_;
    int event_fd_ = -1;
    std::atomic<int> requested_code_{0};
};

}  // namespace lucid::host::agent
