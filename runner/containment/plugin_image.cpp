#include "containment/plugin_image.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "containment/measure_text.hpp"
#include "containment/owned_fd.hpp"

// Older libc headers (the flag is Linux 6.3).
#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 0x0008U
#endif

namespace lucid::runner::containment {
namespace {

int create_memfd() {
    const int fd =
        ::memfd_create("lucid-plugin", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_NOEXEC_SEAL);
    // EINVAL: a kernel before 6.3, which does not know the flag (nor vm.memfd_noexec).
    if (fd >= 0 || errno != EINVAL) return fd;
    return ::memfd_create("lucid-plugin", MFD_CLOEXEC | MFD_ALLOW_SEALING);
}

bool write_all(int fd, const char* data, std::size_t size) {
    while (size > 0) {
        const ssize_t n = ::write(fd, data, size);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        data += n;
        size -= static_cast<std::size_t>(n);
    }
    return true;
}

}  // namespace

std::variant<PluginImage, std::string> PluginImage::copy(const std::string& file) {
    const std::string what = "cannot copy " + file + " into memory for run_as: ";
    OwnedFd in{::open(file.c_str(), O_RDONLY | O_CLOEXEC)};
    if (in.fd < 0) return what + system_error_text("open", errno);
    struct stat st {};
    if (::fstat(in.fd, &st) != 0) return what + system_error_text("fstat", errno);
    if (!S_ISREG(st.st_mode)) return what + "not a regular file";
    OwnedFd out{create_memfd()};
    if (out.fd < 0) return what + system_error_text("memfd_create", errno);
    char buffer[64 * 1024];
    for (;;) {
        const ssize_t n = ::read(in.fd, buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return what + system_error_text("read", errno);
        if (n == 0) break;
        if (!write_all(out.fd, buffer, static_cast<std::size_t>(n))) {
            return what + system_error_text("write", errno);
        }
    }
    if (::fcntl(out.fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL) !=
        0) {
        return what + system_error_text("F_ADD_SEALS", errno);
    }
    return PluginImage(file, out.release());
}

PluginImage::PluginImage(PluginImage&& other) noexcept
    : source_(std::move(other.source_)), fd_(other.fd_) {
    other.fd_ = -1;
}

PluginImage::~PluginImage() {
    if (fd_ >= 0) ::close(fd_);
}

std::string PluginImage::path() const { return "/proc/self/fd/" + std::to_string(fd_); }

}  // namespace lucid::runner::containment
