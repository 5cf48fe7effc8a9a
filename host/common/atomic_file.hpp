// Durable, atomic replacement of small files (the registry, the config store, the request log).
//
// Pattern borrowed from mosquitto's persistence: write `<name>.tmp.<pid>`, fsync it, rename over
// the target, fsync the directory. A reader therefore sees the old file or the new one, never a
// mix, and after a power cut the rename itself is on disk. Every system call goes through
// `FileOps` so that tests can inject a failure at each step and prove the old file survives.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lucid::host {

// The seam: the handful of system calls the atomic write makes. Default methods call libc.
class FileOps {
  public:
    virtual ~FileOps() = default;
    virtual int open(const char* path, int flags, mode_t mode) const;
    virtual ssize_t write(int fd, const void* data, std::size_t size) const;
    virtual int fsync(int fd) const;
    virtual int close(int fd) const;
    virtual int rename(const char* from, const char* to) const;
};

const FileOps& real_file_ops();

// Replaces `target` with `content` atomically and durably. On failure throws std::system_error
// whose message names the step and the path; the previous file is untouched and the temporary
// file removed.
void write_file_atomically(const std::filesystem::path& target, std::string_view content,
                           const FileOps& ops = real_file_ops(), mode_t mode = 0640);

// write_file_atomically() without its fsyncs: readers see the old file or the new one, never a
// mix, but after a power cut the file may be the old one, or empty. Only for a file whose content
// is durable elsewhere already (DedupStore::record_with_file: in the journal).
void replace_file_unflushed(const std::filesystem::path& target, std::string_view content,
                            mode_t mode = 0640);

// What a writer killed between creating and renaming its temporary file leaves behind.
// `<name>.tmp.<pid>.<n>` → the writer's pid; nullopt for any other name.
std::optional<pid_t> temp_file_writer(const std::string& file_name);

// Removes every temporary of `target` (`<target>.tmp.*`) and returns their paths. Only for a
// caller that holds the lock every writer of `target` takes (none can be writing one now).
std::vector<std::filesystem::path> remove_temp_files(const std::filesystem::path& target);

// Removes the temporaries in `dir` (not recursive) whose writer is gone, or is this process: call
// it at start, before this process writes anything there. Returns the removed paths. Errors are
// ignored: a file that cannot be removed now is tried again at the next start.
std::vector<std::filesystem::path> remove_interrupted_writes(const std::filesystem::path& dir);

// Reads a whole file. Throws std::system_error when it cannot be opened or read.
std::string read_file(const std::filesystem::path& path);

// A UTC timestamp safe in file names: 20261122T140501.123Z.
std::string file_timestamp();

// Renames `path` to `<stem>.<label>.<file_timestamp()><ext>` in the same directory (e.g.
// registry.json → registry.corrupt.20261122T140501.123Z.json) and returns the new path.
std::filesystem::path move_aside(const std::filesystem::path& path, std::string_view label);

// move_aside(), said for a log line: "moved aside to <new path>", or "cannot move it aside
// (<why>)" when it cannot be (a read-only data directory: the caller goes on without the file).
std::string move_aside_saying(const std::filesystem::path& path, std::string_view label);

// Copies `path` to `<stem>.<label>.<file_timestamp()><ext>` and returns the copy's path.
std::filesystem::path copy_aside(const std::filesystem::path& path, std::string_view label);

}  // namespace lucid::host
