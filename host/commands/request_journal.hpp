// The request log's journal (`{data}/request_log.journal`): what the agent answered since the
// request log (`request_log.json`) was last written whole, one record a line, appended and made
// durable with one fdatasync each (DedupStore). The format, pure, and the appending file.
//
// A line is `<16 hex digits> <json>\n`: the digits are the FNV-1a 64 hash of the JSON, so that a
// record cut short by a crash, or garbled, is told from a whole one. The first line is the
// header, `{"journal":1,"base":"<hash>"}`: `base` is the hash of the request_log.json this
// journal extends (kNoBase when there was none). A release that does not know the journal
// ignores it and reads request_log.json as before; if it wrote request_log.json meanwhile (a
// self-update rolled back, then forward again), `base` no longer matches and the journal, older
// than that file, is set aside rather than replayed over it.
//
// A record is a dedup entry, `{"request_id","topic","payload"}`, and may carry the new content of
// a small file of the data directory, `"file":"core_config.json","content":"..."`: a cfg/set's
// config change and its answer are one record, made durable by one fdatasync; the file itself is
// rewritten from the journal, durably, at load and at compaction.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "commands/dedup_entry.hpp"
#include "common/unique_fd.hpp"

namespace lucid::host::commands {

inline constexpr std::string_view kNoBase = "none";

struct JournalRecord {
    DedupEntry entry;
    std::string file;     // a plain file name in the data directory; empty when none carried
    std::string content;  // that file's new content
};

struct ParsedJournal {
    // The header's base; nullopt when the first line is no valid header (the journal is unusable).
    std::optional<std::string> base;
    std::vector<JournalRecord> records;  // the whole ones, in order
    std::size_t dropped = 0;             // lines cut short, garbled or of an unknown shape
};

// FNV-1a 64 of `text` as 16 lowercase hex digits (the line check, and the base).
std::string journal_hash(std::string_view text);

std::string journal_header(std::string_view base);
std::string journal_line(const JournalRecord& record);
// Never throws: a damaged line is counted in `dropped` and the lines after it are still read.
ParsedJournal parse_journal(std::string_view text);
// A name a record may carry: one path component, not hidden, not a directory reference.
bool journal_file_name_ok(std::string_view name);

// The journal open for appending. Thread: not safe; DedupStore holds its lock around it.
class JournalFile {
  public:
    // Replaces `path` atomically and durably with a journal holding only the header. Throws
    // std::system_error.
    static JournalFile create(const std::filesystem::path& path, std::string_view base);
    // A journal found whole (parse_journal dropped nothing), to append to.
    static JournalFile open(const std::filesystem::path& path);

    // Appends `line` (the file is opened for it and closed again); with `sync`, fdatasync()s it.
    // Throws std::system_error naming the path; the journal is then cut back to what it held
    // before (or, when even that fails, the next append must be preceded by a fresh create():
    // broken() says so).
    void append(std::string_view line, bool sync);
    bool broken() const { return broken_; }
    std::uint64_t bytes() const { return bytes_; }

  private:
    JournalFile(std::filesystem::path path, std::uint64_t bytes)
        : path_(std::move(path)), bytes_(bytes) {}

    std::filesystem::path path_;
    bool broken_ = false;
    std::uint64_t bytes_ = 0;
};

}  // namespace lucid::host::commands
