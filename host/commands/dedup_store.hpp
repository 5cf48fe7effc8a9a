// The record of answered commands, so that a redelivered or retried request_id is not executed
// twice: the first result is republished unchanged (contract §3.6).
//
// Keyed by (result topic, request_id): the same id sent to two different commands is two
// commands. Persisted so that a retry after an agent crash or restart is still recognized, in two
// files of the data directory:
//   - `request_log.journal` (request_journal.hpp): every record is appended to it; a command that
//     can change something (cfg/set, restart, install, every plugin command) is fdatasync'ed
//     before its result is published, one flush and no rename; one without side effects (ping,
//     refresh) is appended without a flush, and made durable by the next flush of the file;
//   - `request_log.json`: the whole record, written atomically (temp, fsync, rename, directory
//     fsync) when the journal grows past `total_bytes`, at the start after a journal with records
//     and at flush() (a clean stop); the journal then starts again, empty. It keeps the format of
//     the releases before the journal, so that one a self-update rolls back to still reads it.
//
// A record may carry a small file's new content (record_with_file()): cfg/set's config and its
// answer are one journal record, durable at one fdatasync (contract §3.6 and the data directory,
// §8). The file itself is then replaced without a flush (readers see it at once); the journal is
// what survives a power cut, and the file is written durably from it at load and compaction.
//
// Bounded in entries and in bytes (DedupLimits), oldest forgotten first: the whole record is
// written and read whole, so a result of any size stored whole would make both cost what the
// largest results weigh (40 echo commands of 1 MB once made a 152 MB file and a 445 MB start). A
// result up to `result_bytes` is replayed byte for byte; a larger one is kept as
// truncated_result(): request_id, ok, error, truncated:true.
//
// Loading never refuses the start: a request log over the read limit (4 × total_bytes) or one
// that does not parse is moved aside (`request_log.too-large.<ts>.json`,
// `request_log.corrupt.<ts>.json`) and the record starts empty; a journal with no valid header,
// too large, or extending another request_log.json than the one found (written by an older
// release meanwhile) is moved aside (`request_log.<corrupt|too-large|stale>.<ts>.journal`); a
// journal record cut short or garbled is dropped, the records around it kept. load_problem() says
// so, naming the files.
//
// Thread: safe from any thread. Errors: a failed durable write throws std::system_error (the
// caller still publishes the result; the record stays in memory, except record_with_file's).
#pragma once

#include <deque>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "commands/dedup_entry.hpp"
#include "commands/request_journal.hpp"

namespace lucid::host::commands {

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
    // Records the answer and the new `content` of `file_name` (a file beside the request log) as
    // one journal record, fdatasync'ed, then replaces the file without a flush. Throws
    // std::system_error when the record cannot be made durable: then nothing is recorded and the
    // file is untouched. A request_id answered already is recorded again (first answer wins).
    void record_with_file(const std::string& request_id, RecordedResult result,
                          const std::string& file_name, std::string content);
    // Writes the whole request log (and the carried files) and starts an empty journal, if the
    // journal holds any record.
    void flush();
    // While on, every record made durable is also written whole at once (request_log.json and
    // the carried files, as the releases before the journal did): a pending self-update
    // (contract §8.15) changes no on-disk format until it commits, so that a rollback to a
    // release that does not know the journal finds every answer and every cfg/set.
    void set_whole_writes(bool on);

    std::size_t size() const;
    // The entries' bytes as serialized (what total_bytes bounds).
    std::size_t bytes() const;
    // Set when loading found a file it could not use (it was moved aside).
    const std::string& load_problem() const { return load_problem_; }
    const std::filesystem::path& journal_path() const { return journal_path_; }

  private:
    static std::string key(const std::string& topic, const std::string& request_id);
    void load();
    std::string load_whole_log();  // returns the base (hash of the text read, or kNoBase)
    // Returns whether the journal had damaged records (a compaction must cut them off).
    bool load_journal(const std::string& base);
    void problem(const std::string& text);
    // Keeps the entry's result whole when within result_bytes, else its truncated_result;
    // returns whether it truncated.
    bool fit(DedupEntry& entry) const;
    // Adds an entry and forgets the oldest entries beyond the limits; the caller holds mutex_
    // (or is load()).
    void add_locked(DedupEntry entry);
    // Appends the newest entry (with a carried file) to the journal; compacts first when the
    // journal is not open, after when it outgrew the bound.
    void append_locked(const JournalRecord& record, bool sync);
    // Compacts past the journal's bound, or after a durable record while whole_writes_.
    void compact_if_due_locked(bool durable);
    void compact_locked();

    std::filesystem::path file_;
    std::filesystem::path journal_path_;
    std::optional<JournalFile> journal_;
    std::size_t journal_records_ = 0;
    // Each carried file's latest content since the last compaction, written durably by it.
    std::unordered_map<std::string, std::string> carried_;
    DedupLimits limits_;
    mutable std::mutex mutex_;
    std::deque<DedupEntry> entries_;
    std::deque<std::size_t> entry_bytes_;  // serialized size of each entry, same order
    std::size_t bytes_ = 0;
    std::unordered_map<std::string, std::size_t> index_;  // key → count of matching entries
    bool dirty_ = false;
    bool whole_writes_ = false;
    std::string load_problem_;
};

}  // namespace lucid::host::commands
