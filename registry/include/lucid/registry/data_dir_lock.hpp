// One agent per data directory, for the life of the process.
//
// Two agents on one directory would load the same registry and overwrite each other's files.
// The agent therefore holds, without waiting, an exclusive flock on the data directory itself
// (an O_RDONLY descriptor of the directory: that works on a read-only file system too, where no
// lock file can be created) and on `{data}/agent.lock`, in which it writes its pid for the error
// a second agent prints (and for `flock {data}/agent.lock …` in an operator's script). Both are
// held through read-only descriptors: a file held open for writing would make a
// `mount -o remount,ro` of the data directory fail with EBUSY. On a
// read-only directory the lock file is locked when it exists; the pid of the holder then comes
// from /proc/locks. The kernel drops both locks when the process dies, however it dies.
//
// The data directory is writable or not (read_only_reason()): creating the lock file is the
// probe, so the agent knows at start whether it can change anything.
//
// Not related to `{data}/registry.lock` (file_lock.hpp), which every reader and writer of the
// registry (lucidctl too) takes around each access.
//
// Thread: construct once on the main thread. Errors: DataDirInUse when another process holds
// the lock; std::system_error naming the path when the directory cannot be opened.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>

namespace lucid::registry {

class DataDirInUse : public std::runtime_error {
  public:
    DataDirInUse(const std::filesystem::path& dir, std::optional<pid_t> holder);
    // The pid of the process holding the lock, when it could be found.
    std::optional<pid_t> holder() const { return holder_; }

  private:
    std::optional<pid_t> holder_;
};

class DataDirLock {
  public:
    explicit DataDirLock(const std::filesystem::path& data_dir);
    ~DataDirLock();
    DataDirLock(const DataDirLock&) = delete;
    DataDirLock& operator=(const DataDirLock&) = delete;

    // Empty when the agent can write its data directory; otherwise the errno text of the
    // refusal ("Read-only file system", "Permission denied").
    const std::optional<std::string>& read_only_reason() const { return read_only_reason_; }

  private:
    int dir_fd_ = -1;
    int file_fd_ = -1;
    std::optional<std::string> read_only_reason_;
};

// The pid holding a flock on the file or directory `fd` refers to, from /proc/locks (another
// than this process); nullopt when none is listed. Exposed for tests.
std::optional<pid_t> flock_holder(int fd);

}  // namespace lucid::registry
