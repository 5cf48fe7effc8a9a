// The record of answered commands, so that a redelivered or retried request_id is not executed
// twice: the first result is republished unchanged (SPEC §3).
//
// Keyed by (result topic, request_id): the same id sent to two different commands is two
// commands. Bounded (oldest forgotten first) and persisted in `{data}/request_log.json` with an
// atomic, durable write, so that a retry after an agent crash or restart is still recognized.
//
// Durability per record: a command with side effects (cfg/set, restart, install) is written to
// disk before its result is published; an idempotent one (ping, refresh) only marks the record
// dirty and is written with the next durable record or flush() — so that a ping costs no fsync.
//
// Thread: safe from any thread. Errors: a failed durable write throws std::system_error (the
// caller still publishes the result); a corrupt file is moved aside and the record starts empty.
#pragma once

#include <deque>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace lucid::host::commands {

struct RecordedResult {
    std::string topic;    // absolute result topic
    std::string payload;  // the result exactly as first published
};

struct DedupEntry {
    std::string request_id;
    RecordedResult result;
};

enum class Durability { immediate, deferred };

// The file format, pure: {"format":1,"entries":[{"request_id","topic","payload"}, ...]}, oldest
// first.
std::string serialize_dedup(const std::deque<DedupEntry>& entries);
std::optional<std::deque<DedupEntry>> parse_dedup(const std::string& text);

class DedupStore {
  public:
    DedupStore(std::filesystem::path file, std::size_t capacity);

    std::optional<RecordedResult> find(const std::string& topic,
                                       const std::string& request_id) const;
    void record(const std::string& request_id, RecordedResult result, Durability durability);
    // Writes deferred records, if any.
    void flush();

    std::size_t size() const;
    // Set when loading found a corrupt file (it was moved aside).
    const std::string& load_problem() const { return load_problem_; }

  private:
    static std::string key(const std::string& topic, const std::string& request_id);
    void write_locked();

    std::filesystem::path file_;
    std::size_t capacity_;
    mutable std::mutex mutex_;
    std::deque<DedupEntry> entries_;
    std::unordered_map<std::string, std::size_t> index_;  // key → count of matching entries
    bool dirty_ = false;
    std::string load_problem_;
};

}  // namespace lucid::host::commands
