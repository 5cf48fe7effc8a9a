#include "dropin/inotify_directory.hpp"

#include <limits.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace lucid::host::dropin {
namespace {

constexpr std::uint32_t kWatchMask = IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE |
                                     IN_MOVED_FROM | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR;

// EMFILE and ENOSPC name a limit of the user (every process of it counts), not of this
// agent: the operator needs the sysctl to raise, or the setting that does without a watch.
std::string limit_hint(int error, const char* sysctl) {
    return std::string(" (") + sysctl + " is used up by this user's processes" +
           (error == EMFILE ? ", or the open-file limit" : "") +
           "; raise it, or set LUCID_DROPIN=off)";
}

}  // namespace

InotifyDirectory::InotifyDirectory(const std::filesystem::path& directory)
    : fd_(inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) {
    if (!fd_.valid()) {
        const int error = errno;
        throw std::system_error(
            error, std::generic_category(),
            "inotify_init1" +
                (error == EMFILE ? limit_hint(error, "fs.inotify.max_user_instances") : ""));
    }
    if (inotify_add_watch(fd_.get(), directory.c_str(), kWatchMask) < 0) {
        const int error = errno;
        throw std::system_error(
            error, std::generic_category(),
            "cannot watch drop-in directory " + directory.string() +
                (error == ENOSPC ? limit_hint(error, "fs.inotify.max_user_watches") : ""));
    }
}

std::error_code InotifyDirectory::read_events(
    const std::function<bool(std::uint32_t mask, std::string_view name)>& on_event) {
    // Room for many events; the kernel never splits one, and one with the longest name fits.
    alignas(inotify_event) char buffer[64 * (sizeof(inotify_event) + NAME_MAX + 1)];
    while (true) {
        const ssize_t n = read(fd_.get(), buffer, sizeof(buffer));
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) return {};
            return {errno, std::generic_category()};
        }
        for (ssize_t offset = 0; offset < n;) {
            inotify_event event;
            std::memcpy(&event, buffer + offset, sizeof(event));
            // `name` is NUL-padded to `len` bytes; its real length ends at the first NUL.
            const char* name = buffer + offset + sizeof(inotify_event);
            const std::string_view name_view(name, event.len == 0 ? 0 : strnlen(name, event.len));
            if (!on_event(event.mask, name_view)) return {};
            offset += static_cast<ssize_t>(sizeof(inotify_event) + event.len);
        }
    }
}

}  // namespace lucid::host::dropin
