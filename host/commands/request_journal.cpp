#include "commands/request_journal.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "common/atomic_file.hpp"
#include "common/file_modes.hpp"
#include "lucid/registry/registry_json.hpp"

namespace lucid::host::commands {

namespace {

using JournalWriter = rapidjson::Writer<rapidjson::StringBuffer>;
constexpr std::size_t kJournalHashDigits = 16;

void journal_string(JournalWriter& w, const char* key, const std::string& value) {
    w.Key(key);
    w.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
}

std::string journal_framed(const rapidjson::StringBuffer& buffer) {
    const std::string_view json(buffer.GetString(), buffer.GetSize());
    std::string line = journal_hash(json);
    line += ' ';
    line += json;
    line += '\n';
    return line;
}

const rapidjson::Value* journal_member(const rapidjson::Value& object, const char* key) {
    auto it = object.FindMember(key);
    return it == object.MemberEnd() ? nullptr : &it->value;
}

std::optional<std::string> journal_text_member(const rapidjson::Value& object, const char* key) {
    const auto* v = journal_member(object, key);
    if (!v || !v->IsString()) return std::nullopt;
    return std::string(v->GetString(), v->GetStringLength());
}

// The JSON of one line whose hash checks out; nullopt for a damaged line.
std::optional<rapidjson::Document> journal_checked(std::string_view line) {
    if (line.size() < kJournalHashDigits + 2 || line[kJournalHashDigits] != ' ')
        return std::nullopt;
    const std::string_view json = line.substr(kJournalHashDigits + 1);
    if (line.substr(0, kJournalHashDigits) != journal_hash(json)) return std::nullopt;
    if (registry::json_too_deep(json)) return std::nullopt;
    rapidjson::Document doc;
    doc.Parse(json.data(), json.size());
    if (doc.HasParseError() || !doc.IsObject()) return std::nullopt;
    return doc;
}

std::optional<JournalRecord> journal_record(const rapidjson::Value& doc) {
    auto id = journal_text_member(doc, "request_id");
    auto topic = journal_text_member(doc, "topic");
    auto payload = journal_text_member(doc, "payload");
    if (!id || !topic || !payload) return std::nullopt;
    JournalRecord record{
        DedupEntry{std::move(*id), {std::move(*topic), std::move(*payload)}}, {}, {}};
    if (journal_member(doc, "file")) {
        auto file = journal_text_member(doc, "file");
        auto content = journal_text_member(doc, "content");
        if (!file || !content || !journal_file_name_ok(*file)) return std::nullopt;
        record.file = std::move(*file);
        record.content = std::move(*content);
    }
    return record;
}

[[noreturn]] void journal_fail(const char* step, const std::filesystem::path& path) {
    throw std::system_error(errno, std::generic_category(),
                            std::string(step) + " '" + path.string() + "'");
}

}  // namespace

std::string journal_hash(std::string_view text) {
    std::uint64_t h = 14695981039346656037ull;
    for (const char c : text) {
        h ^= static_cast<unsigned char>(c);
        h *= 1099511628211ull;
    }
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out(kJournalHashDigits, '0');
    for (std::size_t i = kJournalHashDigits; i-- > 0; h >>= 4) out[i] = kDigits[h & 0xF];
    return out;
}

std::string journal_header(std::string_view base) {
    rapidjson::StringBuffer buffer;
    JournalWriter w(buffer);
    w.StartObject();
    w.Key("journal");
    w.Int(1);
    journal_string(w, "base", std::string(base));
    w.EndObject();
    return journal_framed(buffer);
}

std::string journal_line(const JournalRecord& record) {
    rapidjson::StringBuffer buffer;
    JournalWriter w(buffer);
    w.StartObject();
    journal_string(w, "request_id", record.entry.request_id);
    journal_string(w, "topic", record.entry.result.topic);
    journal_string(w, "payload", record.entry.result.payload);
    if (!record.file.empty()) {
        journal_string(w, "file", record.file);
        journal_string(w, "content", record.content);
    }
    w.EndObject();
    return journal_framed(buffer);
}

bool journal_file_name_ok(std::string_view name) {
    return !name.empty() && name.size() <= 255 && name.front() != '.' &&
           name.find('/') == std::string_view::npos && name.find('\0') == std::string_view::npos;
}

ParsedJournal parse_journal(std::string_view text) {
    ParsedJournal out;
    bool first = true;
    std::size_t start = 0;
    while (start < text.size()) {
        const std::size_t end = text.find('\n', start);
        // A last line without its newline is a record whose write was cut short.
        const bool whole = end != std::string_view::npos;
        const std::string_view line =
            text.substr(start, whole ? end - start : std::string_view::npos);
        start = whole ? end + 1 : text.size();
        auto doc = whole ? journal_checked(line) : std::nullopt;
        if (first) {
            first = false;
            const auto* version = doc ? journal_member(*doc, "journal") : nullptr;
            auto base = doc ? journal_text_member(*doc, "base") : std::nullopt;
            if (!version || !version->IsInt() || version->GetInt() != 1 || !base) {
                ++out.dropped;
                return out;  // no header: nothing after it can be trusted to extend anything
            }
            out.base = std::move(*base);
            continue;
        }
        auto record = doc ? journal_record(*doc) : std::nullopt;
        if (!record) {
            ++out.dropped;
            continue;
        }
        out.records.push_back(std::move(*record));
    }
    return out;
}

JournalFile JournalFile::create(const std::filesystem::path& path, std::string_view base) {
    const std::string header = journal_header(base);
    // It repeats command results, as request_log.json does: owner only.
    write_file_atomically(path, header, real_file_ops(), kPrivateFileMode);
    return JournalFile(path, header.size());
}

JournalFile JournalFile::open(const std::filesystem::path& path) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) journal_fail("cannot open", path);
    return JournalFile(path, static_cast<std::uint64_t>(st.st_size));
}

void JournalFile::append(std::string_view line, bool sync) {
    if (broken_) {
        errno = EBADF;
        journal_fail("cannot append to", path_);
    }
    // Opened for each record, not held: a file held open for writing keeps the file system from
    // being remounted read-only (or unmounted) under the agent; the open costs microseconds
    // beside the fdatasync.
    UniqueFd fd(::open(path_.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW));
    if (!fd.valid()) journal_fail("cannot open", path_);
    std::size_t written = 0;
    while (written < line.size()) {
        const ssize_t n = ::write(fd.get(), line.data() + written, line.size() - written);
        if (n < 0 && errno == EINTR) continue;
        if (n > 0) {
            written += static_cast<std::size_t>(n);
            continue;
        }
        if (n == 0) errno = ENOSPC;
        const int saved = errno;
        // A partial record would glue itself to the next one: cut it off, or give the file up.
        if (::ftruncate(fd.get(), static_cast<off_t>(bytes_)) != 0) broken_ = true;
        errno = saved;
        journal_fail("cannot append to", path_);
    }
    // fdatasync covers the size too (needed to read the data back), not the mtime: one flush.
    if (sync && ::fdatasync(fd.get()) != 0) {
        const int saved = errno;
        // Whether the record reached the disk is unknown: the next append starts a fresh file.
        broken_ = true;
        errno = saved;
        journal_fail("cannot fdatasync", path_);
    }
    bytes_ += line.size();
}

}  // namespace lucid::host::commands
