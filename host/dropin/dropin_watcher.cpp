#include "dropin/dropin_watcher.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <system_error>
#include <utility>

#include "common/file_modes.hpp"
#include "common/logging.hpp"

namespace lucid::host::dropin {
namespace {

// The directory must exist before InotifyDirectory adds its watch, hence a helper run first in
// the member initializer list.
std::filesystem::path ensure_directory(std::filesystem::path directory) {
    // 0750 whatever the umask: a directory others may write to would let them install plugins.
    make_directories(directory);
    return directory;
}

}  // namespace

DropinWatcher::DropinWatcher(std::filesystem::path directory, DropinCallbacks callbacks)
    : directory_(ensure_directory(std::move(directory))),
      inotify_(directory_),
      wake_fd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)),
      reporter_(directory_, std::move(callbacks)) {
    if (!wake_fd_.valid()) throw std::system_error(errno, std::generic_category(), "eventfd");
    logger("dropin")->info("watching drop-in directory {}", directory_.string());
    thread_ = std::thread([this] { run(); });
}

DropinWatcher::~DropinWatcher() { stop(); }

void DropinWatcher::initial_scan() {
    if (std::this_thread::get_id() == thread_id_.load()) {
        reporter_.scan();
        return;
    }
    std::unique_lock<std::mutex> lock(mutex_);
    if (!running_ || stop_requested_) return;
    const std::uint64_t ticket = ++scans_requested_;
    wake();
    cv_.wait(lock, [&] { return scans_done_ >= ticket || !running_; });
}

void DropinWatcher::stop() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stop_requested_ = true;
    }
    wake();
    // Joining from the watcher thread itself would deadlock: the loop ends after the callback.
    if (std::this_thread::get_id() == thread_id_.load()) return;
    std::lock_guard<std::mutex> lock(join_mutex_);
    if (thread_.joinable()) thread_.join();
}

bool DropinWatcher::stop_asked() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return stop_requested_;
}

bool DropinWatcher::watching() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return running_ && !stop_requested_;
}

void DropinWatcher::wake() {
    const std::uint64_t one = 1;
    // Only fails when the counter would overflow 2^64-1, and then the fd is readable anyway.
    [[maybe_unused]] auto n = write(wake_fd_.get(), &one, sizeof(one));
}

bool DropinWatcher::serve_requests() {
    std::uint64_t drained = 0;
    [[maybe_unused]] auto n = read(wake_fd_.get(), &drained, sizeof(drained));
    std::uint64_t ticket = 0;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (stop_requested_) return false;
        ticket = scans_requested_;
        if (ticket <= scans_done_) return true;
    }
    // One scan answers every request made before it started.
    reporter_.scan();
    std::lock_guard<std::mutex> lock(mutex_);
    scans_done_ = ticket;
    cv_.notify_all();
    return true;
}

void DropinWatcher::run() {
    thread_id_.store(std::this_thread::get_id());
    // A thread entry must not throw; the reporter already catches callback exceptions, this
    // guards allocation failures and the like.
    try {
        pollfd fds[2] = {{wake_fd_.get(), POLLIN, 0}, {inotify_.fd(), POLLIN, 0}};
        while (true) {
            if (poll(fds, 2, -1) < 0) {
                if (errno == EINTR) continue;
                reporter_.lose_watch("poll on the drop-in directory failed: " +
                                     std::error_code(errno, std::generic_category()).message());
                break;
            }
            // The wake fd first, so that stop() is served before any backlog of file events.
            if ((fds[0].revents & POLLIN) && !serve_requests()) break;
            if (fds[1].revents & POLLIN) {
                const auto error = inotify_.read_events([&](std::uint32_t mask, auto name) {
                    // A stop() asked for meanwhile (even by a callback) ends the batch here.
                    if (stop_asked()) return false;
                    return reporter_.handle(mask, name) == DropinReporter::Outcome::keep_watching;
                });
                if (error) {
                    reporter_.lose_watch("reading drop-in directory events failed: " +
                                         error.message());
                }
                if (reporter_.watch_lost()) break;
            }
        }
    } catch (const std::exception& e) {
        reporter_.lose_watch(std::string("the watcher stopped: ") + e.what());
    }
    std::lock_guard<std::mutex> lock(mutex_);
    running_ = false;
    cv_.notify_all();
}

}  // namespace lucid::host::dropin
