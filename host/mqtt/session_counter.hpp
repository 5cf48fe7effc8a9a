// The `session` counter of `status` and the Will: +1 per successful connection, persisted in
// `{data}/session` so that it keeps growing across agent restarts (a consumer can tell a
// reconnect or a restart from a duplicate).
//
// The number is reserved before connecting (the Will must carry it) and committed only once the
// broker accepted the connection, so failed attempts do not inflate it.
// Thread: safe from any thread. Errors: commit() logs write failures and keeps the value in
// memory (losing persistence is better than losing the connection).
#pragma once

#include <cstdint>
#include <filesystem>
#include <mutex>

namespace lucid::host::mqtt {

class SessionCounter {
  public:
    // Reads the persisted value; a missing or unreadable file counts as 0.
    explicit SessionCounter(std::filesystem::path file);

    std::uint64_t current() const;  // the last committed session (0 before the first connect)
    std::uint64_t next() const;     // the number the next connection will get
    void commit(std::uint64_t session);

  private:
    std::filesystem::path file_;
    mutable std::mutex mutex_;
    std::uint64_t current_ = 0;
};

}  // namespace lucid::host::mqtt
