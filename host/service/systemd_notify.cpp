#include "service/systemd_notify.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace lucid::host::service {

bool notify(const std::string& state) {
    const char* socket_path = std::getenv("NOTIFY_SOCKET");
    if (!socket_path || !*socket_path) return false;
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    const std::size_t length = std::strlen(socket_path);
    if (length >= sizeof(address.sun_path)) return false;
    std::memcpy(address.sun_path, socket_path, length);
    // An abstract socket is written with a leading '@' and addressed with a leading NUL.
    if (address.sun_path[0] == '@') address.sun_path[0] = '\0';
    const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    const auto size = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + length);
    const bool sent = ::sendto(fd, state.data(), state.size(), MSG_NOSIGNAL,
                               reinterpret_cast<const sockaddr*>(&address),
                               size) == static_cast<ssize_t>(state.size());
    ::close(fd);
    return sent;
}

std::chrono::microseconds WatchdogFeeder::configured_interval() {
    const char* usec = std::getenv("WATCHDOG_USEC");
    if (!usec) return std::chrono::microseconds(0);
    if (const char* pid = std::getenv("WATCHDOG_PID"); pid && std::atol(pid) != ::getpid()) {
        return std::chrono::microseconds(0);  // meant for another process
    }
    return std::chrono::microseconds(std::strtoll(usec, nullptr, 10));
}

WatchdogFeeder::WatchdogFeeder(std::function<bool()> healthy) : healthy_(std::move(healthy)) {
    const auto interval = configured_interval();
    if (interval.count() <= 0) return;
    thread_ = std::thread([this, period = interval / 2] {
        std::unique_lock<std::mutex> lock(mutex_);
        while (!cv_.wait_for(lock, period, [this] { return stop_; })) {
            if (healthy_()) notify("WATCHDOG=1");
        }
    });
}

WatchdogFeeder::~WatchdogFeeder() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
}

}  // namespace lucid::host::service
