// Watches the drop-in plugin directory (contract §7) and tells its owner, through DropinCallbacks,
// which artifact files became ready, were removed or have names that cannot be installed.
// It installs nothing: the owner (the component manager) runs the install pipeline.
//
// What counts as ready: a file closed after being opened for writing (IN_CLOSE_WRITE), or moved
// in (IN_MOVED_TO). A file still open for writing is never reported from inotify. Hidden and
// temporary names (`.x`, `*.tmp`, `*.part`, `*~`) are ignored, so the safe way for an operator
// to drop a file in is: copy it as `name.so.part`, then `mv` it to `name.so`. Subdirectories are
// ignored. A symlink, FIFO or device made in place is reported at once (IN_CREATE: nothing is
// ever written to it); a hard link made in place (no write, no move) is picked up only by a
// scan. A scan cannot tell a half-written file from a complete one; if it reports one early,
// the pipeline's verification fails and the IN_CLOSE_WRITE that follows reports it again.
//
// Thread: the watcher runs one thread of its own, started by the constructor; it polls the
// inotify descriptor and an eventfd that stop() and initial_scan() use to wake it. All
// callbacks run on that thread (see dropin_callbacks.hpp: hand work off to your own lane).
// Public methods may be called from any thread. Never destroy the watcher from a callback.
//
// Queue overflow (IN_Q_OVERFLOW): the directory is rescanned and everything present is
// reported ready again (the owner's pipeline is idempotent, deduplicating by sha256); artifacts
// reported earlier and now gone are reported removed. If the directory is deleted, moved or
// unmounted, the watcher calls `watch_error` once (the owner logs and reports it) and stops
// watching.
//
// Example:
//   DropinWatcher watcher(plugin_dir, {
//       [&](const fs::path& f) { lane.post([&, f] { manager.dropin_ready(f); }); },
//       [&](const fs::path& f) { lane.post([&, f] { manager.dropin_removed(f); }); },
//       [&](const fs::path& f, const std::string& why) { lane.post(...); },  // rejected name
//       [&](const std::string& message) { log->error("{}", message); }});
//   watcher.initial_scan();  // the files already there at start
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <thread>

#include "common/unique_fd.hpp"
#include "dropin/dropin_callbacks.hpp"
#include "dropin/dropin_reporter.hpp"
#include "dropin/inotify_directory.hpp"

namespace lucid::host::dropin {

class DropinWatcher {
  public:
    // Creates `directory` (with its parents) when missing, starts watching it, then starts the
    // watcher thread. Throws std::filesystem::filesystem_error or std::system_error (naming the
    // directory) when the directory cannot be created or watched.
    DropinWatcher(std::filesystem::path directory, DropinCallbacks callbacks);
    ~DropinWatcher();  // stop()
    DropinWatcher(const DropinWatcher&) = delete;
    DropinWatcher& operator=(const DropinWatcher&) = delete;

    // Reports every file already in the directory (DropinReporter::scan) and returns when that
    // is done. The scan runs on the watcher thread, so callbacks stay on one thread; from a
    // callback it runs inline. The watch is set up before the scan, so a file arriving
    // meanwhile is reported (possibly twice), never missed. Does nothing once stopped.
    void initial_scan();

    // Stops watching and joins the thread; prompt, since it wakes the poll through the eventfd.
    // Idempotent, and safe to call from several threads at once. From a callback it only asks
    // the thread to end once that callback returns (the rest of the batch is dropped).
    void stop();

    // False once stopped or once the watch was lost.
    bool watching() const;

    const std::filesystem::path& directory() const { return directory_; }

  private:
    void run();
    void wake();
    // Runs requested scans; false once stop() was asked for.
    bool serve_requests();
    bool stop_asked() const;

    std::filesystem::path directory_;
    InotifyDirectory inotify_;
    UniqueFd wake_fd_;
    DropinReporter reporter_;  // watcher thread only

    mutable std::mutex mutex_;
    std::condition_variable cv_;
    bool stop_requested_ = false;
    bool running_ = true;  // false once the thread left its loop
    std::uint64_t scans_requested_ = 0;
    std::uint64_t scans_done_ = 0;
    // Set by the thread itself, so that a callback calling stop() or initial_scan() is
    // recognised even before the constructor returns; never changed afterwards.
    std::atomic<std::thread::id> thread_id_{};
    std::mutex join_mutex_;  // two threads calling stop() must not both join
    std::thread thread_;
};

}  // namespace lucid::host::dropin
