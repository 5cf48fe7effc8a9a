#include "common/file_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

namespace lucid::host {

FileLock::FileLock(const std::filesystem::path& lock_path)
    // Never through a link planted under its name: root (lucid-agent floor) takes these locks.
    : fd_(::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640)) {
    if (fd_ < 0 && errno == EROFS) {
        // A read-only file system: flock needs no write access, and when the lock file does
        // not exist nobody can be writing what it protects (nor create it) either.
        fd_ = ::open(lock_path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd_ < 0 && errno == ENOENT) return;
    }
    if (fd_ < 0) {
        throw std::system_error(errno, std::generic_category(),
                                "cannot open lock file '" + lock_path.string() + "'");
    }
    while (::flock(fd_, LOCK_EX) != 0) {
        if (errno == EINTR) continue;
        const int saved = errno;
        ::close(fd_);
        throw std::system_error(saved, std::generic_category(),
                                "cannot lock '" + lock_path.string() + "'");
    }
}

FileLock::~FileLock() {
    if (fd_ < 0) return;
    ::flock(fd_, LOCK_UN);
    ::close(fd_);
}

}  // namespace lucid::host
