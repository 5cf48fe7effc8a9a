// The sd_notify protocol, spoken directly (one datagram to $NOTIFY_SOCKET) so the agent needs
// no libsystemd: READY=1 once it serves, STOPPING=1 on a clean stop, WATCHDOG=1 while healthy.
// Without NOTIFY_SOCKET (not under systemd) every call does nothing.
//
// Thread: notify() from any thread; the WatchdogFeeder owns one thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace lucid::host::service {

// Sends `state` (e.g. "READY=1") to systemd; false when not under systemd or on failure.
bool notify(const std::string& state);

// Feeds the watchdog at half of $WATCHDOG_USEC as long as `healthy()` says so; a wedged agent
// stops feeding and systemd restarts it. Does nothing when no watchdog is configured.
class WatchdogFeeder {
  public:
    explicit WatchdogFeeder(std::function<bool()> healthy);
    ~WatchdogFeeder();
    WatchdogFeeder(const WatchdogFeeder&) = delete;
    WatchdogFeeder& operator=(const WatchdogFeeder&) = delete;

    // The watchdog interval from the environment (WATCHDOG_USEC, checked against WATCHDOG_PID).
    static std::chrono::microseconds configured_interval();

  private:
    std::function<bool()> healthy_;
    std::mutex mutex_;
    std::condition_variable cv_;
    bool stop_ = false;
    std::thread thread_;
};

}  // namespace lucid::host::service
