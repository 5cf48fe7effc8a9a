#include "common/local_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace lucid::host {
namespace fs = std::filesystem;

namespace {

// The errno text is taken at once: any later call (a cleanup) may change errno.
[[noreturn]] void fail_errno(const std::string& what, const fs::path& path) {
    throw LocalFileError(what + " " + path.string() + ": " + std::strerror(errno));
}

std::string size_cap_error(const fs::path& path, std::uint64_t cap, std::uint64_t size) {
    return path.string() + " exceeds the size cap of " + std::to_string(cap) + " bytes (it has " +
           std::to_string(size) + ")";
}

}  // namespace

LocalFile LocalFile::open(const fs::path& path, std::uint64_t max_bytes) {
    // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer for ever.
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
    if (!fd.valid()) fail_errno("cannot open", path);
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) fail_errno("cannot stat", path);
    if (!S_ISREG(st.st_mode)) throw LocalFileError(path.string() + " is not a regular file");
    const auto size = static_cast<std::uint64_t>(st.st_size);
    if (size > max_bytes) throw LocalFileError(size_cap_error(path, max_bytes, size));
    return LocalFile(path, std::move(fd), size, max_bytes);
}

std::size_t LocalFile::read_chunk(char* buffer, std::size_t capacity, std::uint64_t offset) const {
    while (true) {
        const ssize_t n = ::pread(fd_.get(), buffer, capacity, static_cast<off_t>(offset));
        if (n < 0) {
            if (errno == EINTR) continue;
            fail_errno("cannot read", path_);
        }
        // A file still growing after open() is held to the same cap.
        if (offset + static_cast<std::uint64_t>(n) > max_bytes_) {
            throw LocalFileError(
                size_cap_error(path_, max_bytes_, offset + static_cast<std::uint64_t>(n)));
        }
        return static_cast<std::size_t>(n);
    }
}

fs::path LocalFile::opened_path() const {
    std::error_code ec;
    auto target = fs::read_symlink("/proc/self/fd/" + std::to_string(fd_.get()), ec);
    return ec ? fs::path() : target;
}

std::string LocalFile::read_all() const {
    std::string out;
    std::vector<char> buffer(64 * 1024);
    for (std::uint64_t offset = 0;;) {
        const std::size_t n = read_chunk(buffer.data(), buffer.size(), offset);
        if (n == 0) return out;
        out.append(buffer.data(), n);
        offset += n;
    }
}

void LocalFile::copy_to(const fs::path& destination, mode_t mode) const {
    UniqueFd out(::open(destination.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode));
    if (!out.valid()) fail_errno("cannot create", destination);
    const auto discard = [&] {
        std::error_code ignored;
        fs::remove(destination, ignored);
    };
    std::vector<char> buffer(256 * 1024);
    try {
        for (std::uint64_t offset = 0;;) {
            const std::size_t n = read_chunk(buffer.data(), buffer.size(), offset);
            if (n == 0) break;
            for (std::size_t done = 0; done < n;) {
                const ssize_t w = ::write(out.get(), buffer.data() + done, n - done);
                if (w < 0) {
                    if (errno == EINTR) continue;
                    fail_errno("cannot write", destination);
                }
                done += static_cast<std::size_t>(w);
            }
            offset += n;
        }
    } catch (...) {
        discard();
        throw;
    }
}

}  // namespace lucid::host
