// A file descriptor closed at the end of its scope, for the containment steps that open a file
// or directory and must not leak it on any return. The runner links nothing but libc, so this
// is its own small type rather than the host's UniqueFd.
#pragma once

#include <unistd.h>

namespace lucid::runner::containment {

struct OwnedFd {
    int fd;
    OwnedFd(const OwnedFd&) = delete;
    OwnedFd& operator=(const OwnedFd&) = delete;
    ~OwnedFd() {
        if (fd >= 0) ::close(fd);
    }
    // Hands the descriptor to the caller, who closes it.
    int release() {
        const int out = fd;
        fd = -1;
        return out;
    }
};

}  // namespace lucid::runner::containment
