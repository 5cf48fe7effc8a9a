// The record of answered commands, so that a redelivered or retried request_id is not executed
// twice: the first result is republished unchanged (contract §3.6).
//
// Keyed by (result topic, request_id): the same id sent to two different commands is two
// commands. Persisted in `{data}/request_log.json` with an atomic, durable write, so that a retry
// after an agent crash or restart is still recognized.
//
// Bounded in entries and in bytes (DedupLimits), oldest forgotten first: every durable record
// rewrites the whole file, and the file is read whole at every start, so a result of any size
// stored whole would make both cost what the largest results weigh (40 echo commands of 1 MB once
// made a 152 MB file and a 445 MB start). A result up to `result_bytes` is replayed byte for
// byte; a larger one is kept as truncated_result(): request_id, ok, error, truncated:true.
//
// Durability per record: a command that can change something (cfg/set, restart, install, every
// plugin command) is written to disk before its result is published; one without side effects
// (ping, refresh) only marks the record dirty and is written with the next durable record or
// flush() — so that a ping costs no fsync.
//
// Loading never refuses the start: a file over the read limit (4 × total_bytes) or one that does
// not parse is moved aside (`request_log.too-large.<ts>.json`, `request_log.corrupt.<ts>.json`)
// and the record starts empty; load_problem() says so, naming both files.
//
// Thread: safe from any thread. Errors: a failed durable write throws std::system_error (the
// caller still publishes the result; the record stays in memory).
#pragma once

#include <deque>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace lucid::host::commands {

struct RecordedResult {
    std::string topic;    // absolute result topic
    std::string payload;  // the result exactly as first published (or its truncated_result)
};

struct DedupEntry {
    std::string request_id;
    RecordedResult result;
};

enum class Durability { immediate, deferred };

struct DedupLimits {
    std::size_t entries = 512;
    // The entries as serialized in the file; the file is at most this plus a few bytes.
    std::size_t total_bytes = 1024 * 1024;
    // A result up to this many bytes is replayed byte for byte.
    std::size_t result_bytes = 64 * 1024;
};

// The file format, pure: {"format":1,"entries":[{"request_id","topic","payload"}, ...]}, oldest
// first.
std::string serialize_dedup(const std::deque<DedupEntry>& entries);
std::optional<std::deque<DedupEntry>> parse_dedup(const std::string& text);

// What is kept of a result too large to keep whole: `schema`, `ts`, `request_id`, `ok`, `error`
// (its first kMaxTruncatedErrorBytes bytes, cut at a character boundary) and `component_id`
// when the result has them, plus `truncated: true`. Pure.
//
//   truncated_result(R"({"request_id":"e1","ok":true,"error":null,"echo":"<1 MB>"})", "e1")
//     == R"({"request_id":"e1","ok":true,"error":null,"truncated":true})"
inline constexpr std::size_t kMaxTruncatedErrorBytes = 1024;
std::string truncated_result(std::string_view payload, std::string_view request_id);

class DedupStore {
  public:
    DedupStore(std::filesystem::path file, DedupLimits limits);
    // Limits in entries only; the byte limits are DedupLimits' defaults.
    DedupStore(std::filesystem::path file, std::size_t capacity);

    std::optional<RecordedResult> find(const std::string& topic,
                                       const std::string& request_id) const;
    void record(const std::string& request_id, RecordedResult result, Durability durability);
    // Writes deferred records, if any.
    void flush();

    std::size_t size() const;
    // The entries' bytes as serialized (what total_bytes bounds).
    std::size_t bytes() const;
    // Set when loading found a file it could not use (it was moved aside).
    const std::string& load_problem() const { return load_problem_; }

  private:
    static std::string key(const std::string& topic, const std::string& request_id);
    void load();
    // Adds an entry (truncating its result when over the limit; returns whether it did) and
    // forgets the oldest entries beyond the limits; the caller holds mutex_ (or is load()).
    bool add_locked(DedupEntry entry);
    void write_locked();

    std::filesystem::path file_;
    DedupLimits limits_;
    mutable std::mutex mutex_;
    std::deque<DedupEntry> entries_;
    std::deque<std::size_t> entry_bytes_;  // serialized size of each entry, same order
    std::size_t bytes_ = 0;
    std::unordered_map<std::string, std::size_t> index_;  // key → count of matching entries
    bool dirty_ = false;
    std::string load_problem_;
};

}  // namespace lucid::host::commands
