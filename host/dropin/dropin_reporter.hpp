// Turns what happened in the drop-in directory (one inotify event, or a full scan) into
// DropinCallbacks calls. No descriptors and no thread here, so every rule — which names count,
// what an overflow or a lost watch means — is unit-tested by feeding masks directly.
//
// It remembers which artifacts it reported ready and not yet removed, so that a rescan after a
// queue overflow can also report the files whose deletion the kernel dropped.
//
// Thread: not thread-safe; the watcher calls it from its thread only. Errors: never throws
// (callbacks that throw are logged); problems reach the owner through `watch_error`.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <string_view>

#include "dropin/dropin_callbacks.hpp"
#include "dropin/file_version.hpp"

namespace lucid::host::dropin {

class DropinReporter {
  public:
    enum class Outcome { keep_watching, watch_lost };

    DropinReporter(std::filesystem::path directory, DropinCallbacks callbacks);

    // Reports every regular file present: artifacts ready, other names rejected (temporary and
    // hidden names ignored, signatures left to their artifact, subdirectories skipped), in name
    // order. A rejected name is reported once per version of the file (size, mtime), however
    // often it is scanned or written. Then reports removed every
    // artifact reported earlier that is gone. A directory that cannot be listed is a
    // `watch_error`, not a lost watch.
    void scan();

    // One inotify event (`mask` as in inotify_event, `name` the basename, empty for events on
    // the directory itself). A signature `x.so.sig` written or moved in reports `x.so` ready
    // again when that file is there. IN_Q_OVERFLOW rescans. IN_DELETE_SELF, IN_MOVE_SELF,
    // IN_UNMOUNT and IN_IGNORED lose the watch: `watch_error` once, and every later event is
    // dropped.
    Outcome handle(std::uint32_t mask, std::string_view name);

    // Reports a failure of the watch itself (a read error): `watch_error` once, watch lost.
    void lose_watch(const std::string& message);

    bool watch_lost() const { return lost_; }

  private:
    void report_present(const std::string& name);
    void report_gone(const std::string& name);

    std::filesystem::path directory_;
    DropinCallbacks callbacks_;
    std::set<std::string> reported_;  // artifact basenames reported ready and not removed since
    // Rejected basenames and the version of the file that was reported (once per version).
    std::map<std::string, FileVersion> rejected_;
    bool lost_ = false;
};

}  // namespace lucid::host::dropin
