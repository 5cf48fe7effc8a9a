// One inotify instance watching one directory (not its subdirectories) for the events the
// drop-in contract needs: a file closed after writing, moved in, deleted, moved out, and the
// directory itself going away.
//
// IN_CLOSE_WRITE rather than IN_CREATE/IN_MODIFY is what keeps half-written files out: it fires
// only when a descriptor opened for writing is closed. IN_CREATE is watched too, for what is
// never written: a symlink, a FIFO or a device made in place (the reporter ignores it for a
// regular file).
//
// Thread: one reader at a time. Errors: the constructor throws std::system_error naming the
// directory; read_events returns the error instead (it runs on a thread entry).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string_view>
#include <system_error>

#include "common/unique_fd.hpp"

namespace lucid::host::dropin {

class InotifyDirectory {
  public:
    explicit InotifyDirectory(const std::filesystem::path& directory);

    // Non-blocking; poll() it for POLLIN.
    int fd() const { return fd_.get(); }

    // Reads every event queued now and passes each to `on_event` (mask as in inotify_event,
    // name empty for events on the directory itself) until it returns false.
    // Returns an error only when read() fails for a reason other than "nothing queued".
    std::error_code read_events(
        const std::function<bool(std::uint32_t mask, std::string_view name)>& on_event);

  private:
    UniqueFd fd_;
};

}  // namespace lucid::host::dropin
