// A file on this machine opened for reading the safe way: by descriptor, never blocking, and
// bounded. Used for what a local user can put in front of the agent (the drop-in directory and
// its detached signatures), where the path may name a FIFO (open() would block for ever), a
// device (/dev/zero reads without end) or a huge sparse file.
//
// open() opens with O_RDONLY|O_NONBLOCK|O_CLOEXEC (symlinks are followed: a link to an artifact
// is a valid drop-in), then checks the *descriptor* with fstat: a regular file, no larger than
// the cap. Everything afterwards reads from that same descriptor, so a path swapped after the
// check changes nothing. O_NONBLOCK has no effect on a regular file's reads.
//
// Errors: LocalFileError, whose message names the file and, for system calls, keeps the errno
// text of the failed call (never one overwritten by a later cleanup):
//   cannot open /d/x.so: No such file or directory
//   /d/x.so is not a regular file
//   /d/x.so exceeds the size cap of 67108864 bytes (it has 314572800)
//
// Thread: a LocalFile is used by one thread at a time. Example:
//   auto sig = LocalFile::open(dir / "x.so.sig", 4096);
//   std::string text = sig.read_all();
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>

#include "common/unique_fd.hpp"

namespace lucid::host {

class LocalFileError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

class LocalFile {
  public:
    static LocalFile open(const std::filesystem::path& path, std::uint64_t max_bytes);

    const std::filesystem::path& path() const { return path_; }
    std::uint64_t size() const { return size_; }
    // Where the descriptor really points (/proc/self/fd), whatever happened to the names since
    // open(); empty when that cannot be read.
    std::filesystem::path opened_path() const;

    // The whole content. A file that grew beyond the cap since open() is refused.
    std::string read_all() const;

    // Writes the content to `destination`, which must not exist (created exclusively with
    // `mode`; not fsynced: placing it does that). On failure the partial destination is
    // removed and the error says which side failed, with its errno text.
    void copy_to(const std::filesystem::path& destination, mode_t mode) const;

  private:
    LocalFile(std::filesystem::path path, UniqueFd fd, std::uint64_t size, std::uint64_t cap)
        : path_(std::move(path)), fd_(std::move(fd)), size_(size), max_bytes_(cap) {}

    // Reads the next chunk at `offset` into `buffer`; 0 at the end. Throws on a read error or
    // when the content goes past the cap.
    std::size_t read_chunk(char* buffer, std::size_t capacity, std::uint64_t offset) const;

    std::filesystem::path path_;
    UniqueFd fd_;
    std::uint64_t size_ = 0;
    std::uint64_t max_bytes_ = 0;
};

}  // namespace lucid::host
