#include "containment/writable_dir.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "containment/measure_text.hpp"
#include "containment/owned_fd.hpp"

namespace lucid::runner::containment {
namespace {

// Gives `owner` everything below the directory `dir` (what another run_as user left there), never
// through a symbolic link: a link the plugin planted is re-owned itself, not what it points to.
void own_tree(int dir, Owner owner) {
    const int listing = ::dup(dir);
    if (listing < 0) return;
    DIR* entries = ::fdopendir(listing);
    if (!entries) {
        ::close(listing);
        return;
    }
    while (dirent* e = ::readdir(entries)) {
        const std::string name = e->d_name;
        if (name == "." || name == "..") continue;
        ::fchownat(dir, name.c_str(), owner.uid, owner.gid, AT_SYMLINK_NOFOLLOW);
        const OwnedFd sub{
            ::openat(dir, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)};
        if (sub.fd >= 0) own_tree(sub.fd, owner);
    }
    ::closedir(entries);
}

}  // namespace

std::string prepare_writable_dir(const std::string& path, std::optional<Owner> owner) {
    if (path.empty()) return kNotRequested;
    if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) {
        return failed(system_error_text("mkdir " + path, errno));
    }
    struct stat st {};
    if (::lstat(path.c_str(), &st) == 0 && S_ISLNK(st.st_mode)) {
        return failed(path + " is a symbolic link");
    }
    // O_NOFOLLOW: every change below goes to this directory itself, never through a link (one
    // swapped in after the lstat above is refused as "not a directory").
    const OwnedFd dir{::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)};
    if (dir.fd < 0) {
        const int err = errno;
        if (err == ELOOP) return failed(path + " is a symbolic link");
        if (err == ENOTDIR) return failed(path + " is not a directory");
        return failed(system_error_text("open " + path, err));
    }
    // Another user than the last one: what the last one wrote becomes the new one's, so that
    // the plugin can go on with its own state.
    if (owner && ::fstat(dir.fd, &st) == 0 &&
        (st.st_uid != owner->uid || st.st_gid != owner->gid)) {
        own_tree(dir.fd, *owner);
    }
    if (owner && ::fchown(dir.fd, owner->uid, owner->gid) != 0) {
        return failed(system_error_text("chown " + path, errno));
    }
    if (::fchmod(dir.fd, 0700) != 0) return failed(system_error_text("chmod " + path, errno));
    if (::fchdir(dir.fd) != 0) return failed(system_error_text("chdir " + path, errno));
    return kApplied;
}

}  // namespace lucid::runner::containment
