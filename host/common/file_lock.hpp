// An exclusive advisory lock (flock) on a lock file beside the data it protects.
//
// The lock lives on its own file, not on registry.json: the atomic save renames a new inode over
// the registry, and a lock held on the old inode would no longer exclude anybody.
// flock locks belong to the open file description, so two threads of one process that each
// construct a FileLock exclude each other exactly like two processes do.
#pragma once

#include <filesystem>

namespace lucid::host {

class FileLock {
  public:
    // Blocks until the lock is held. Throws std::system_error when the file cannot be opened.
    // On a read-only file system the file is opened read-only (flock needs no more), and when
    // it does not exist there no lock is needed: nobody can write what it protects.
    explicit FileLock(const std::filesystem::path& lock_path);
    ~FileLock();
    FileLock(const FileLock&) = delete;
    FileLock& operator=(const FileLock&) = delete;

  private:
    int fd_;
};

}  // namespace lucid::host
