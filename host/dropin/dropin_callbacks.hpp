// What the drop-in watcher tells its owner (the component manager). The watcher never installs
// anything itself: the owner runs the install pipeline (contract §7, `source.type: "dropin"`).
//
// Thread: every callback runs on the watcher's own thread, one at a time, never concurrently.
// A callback should only hand the work off to the owner's own lane (an install can take
// seconds and must not delay the next event) and must not destroy the watcher.
// A callback that throws is logged and the watcher goes on.
//
// Duplicates are normal: the same file may be reported ready twice in a row (a writer that
// closes twice, a rescan after the kernel queue overflowed, a file written during the initial
// scan). The owner's pipeline is idempotent: it dedups by the artifact's sha256.
//
// Any callback left empty is simply not called.
#pragma once

#include <filesystem>
#include <functional>
#include <string>

namespace lucid::host::dropin {

struct DropinCallbacks {
    // A file with an artifact name was completely written (closed after being opened for
    // writing), moved in, or found by a scan, or its detached signature (`file` + ".sig") was.
    // `file` is directory / basename.
    std::function<void(const std::filesystem::path& file)> file_ready;
    // A file with an artifact name was deleted or moved out (or, after a queue overflow, was
    // reported ready earlier and is no longer there).
    std::function<void(const std::filesystem::path& file)> file_removed;
    // A file that is neither hidden nor temporary nor a signature has no artifact name;
    // `reason` is lucid::registry::parse_artifact_name's message (it names the file). Once per
    // version (size, mtime) of the file in this process; the owner logs it (DropinLogMemo).
    std::function<void(const std::filesystem::path& file, const std::string& reason)> file_rejected;
    // The directory cannot be watched any more (deleted, moved, unmounted, read error) or
    // listed. When the watch is lost, no further callbacks follow.
    std::function<void(const std::string& message)> watch_error;
};

}  // namespace lucid::host::dropin
