#include "commands/dedup_store.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "common/atomic_file.hpp"
#include "common/local_file.hpp"
#include "common/logging.hpp"
#include "contract/payloads.hpp"
#include "lucid/registry/registry_json.hpp"

namespace lucid::host::commands {

namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void write_entry(Writer& w, const DedupEntry& e) {
    w.StartObject();
    w.Key("request_id");
    w.String(e.request_id.data(), static_cast<rapidjson::SizeType>(e.request_id.size()));
    w.Key("topic");
    w.String(e.result.topic.data(), static_cast<rapidjson::SizeType>(e.result.topic.size()));
    // Kept as a string, not re-parsed JSON, so the republished bytes are the original ones.
    w.Key("payload");
    w.String(e.result.payload.data(), static_cast<rapidjson::SizeType>(e.result.payload.size()));
    w.EndObject();
}

// What one entry adds to the file: the entry and its separating comma.
std::size_t serialized_size(const DedupEntry& e) {
    rapidjson::StringBuffer buffer;
    Writer w(buffer);
    write_entry(w, e);
    return buffer.GetSize() + 1;
}

// The longest prefix of `text` of at most `max` bytes that does not end inside a UTF-8 sequence.
std::string_view utf8_prefix(std::string_view text, std::size_t max) {
    if (text.size() <= max) return text;
    std::size_t end = max;
    // Back off continuation bytes (10xxxxxx), then the lead byte of the cut character.
    while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
    return text.substr(0, end);
}

}  // namespace

std::string serialize_dedup(const std::deque<DedupEntry>& entries) {
    rapidjson::StringBuffer buffer;
    Writer w(buffer);
    w.StartObject();
    w.Key("format");
    w.Int(1);
    w.Key("entries");
    w.StartArray();
    for (const auto& e : entries) write_entry(w, e);
    w.EndArray();
    w.EndObject();
    return std::string(buffer.GetString(), buffer.GetSize()) + "\n";
}

std::string truncated_result(std::string_view payload, std::string_view request_id) {
    rapidjson::Document original;
    if (!registry::json_too_deep(payload)) original.Parse(payload.data(), payload.size());
    if (original.HasParseError() || !original.IsObject()) original.SetObject();
    rapidjson::Document out(rapidjson::kObjectType);
    auto& a = out.GetAllocator();
    const auto field = [&](const char* key) -> const rapidjson::Value* {
        auto it = original.FindMember(key);
        return it == original.MemberEnd() ? nullptr : &it->value;
    };
    const auto copy_string = [&](const char* key) {
        if (const auto* v = field(key); v && v->IsString()) {
            out.AddMember(rapidjson::StringRef(key), rapidjson::Value(*v, a), a);
        }
    };
    copy_string("schema");
    copy_string("ts");
    out.AddMember(
        "request_id",
        rapidjson::Value(request_id.data(), static_cast<rapidjson::SizeType>(request_id.size()), a),
        a);
    const auto* ok = field("ok");
    out.AddMember("ok", ok && ok->IsBool() && ok->GetBool(), a);
    if (const auto* error = field("error"); error && error->IsString()) {
        const auto cut = utf8_prefix(std::string_view(error->GetString(), error->GetStringLength()),
                                     kMaxTruncatedErrorBytes);
        out.AddMember("error",
                      rapidjson::Value(cut.data(), static_cast<rapidjson::SizeType>(cut.size()), a),
                      a);
    } else {
        out.AddMember("error", rapidjson::Value(), a);
    }
    copy_string("component_id");
    out.AddMember("truncated", true, a);
    return contract::to_json(out);
}

std::optional<std::deque<DedupEntry>> parse_dedup(const std::string& text) {
    // A file nested deep enough to overflow the stack is corrupt like any other (moved aside).
    if (registry::json_too_deep(text)) return std::nullopt;
    rapidjson::Document doc;
    doc.Parse(text.c_str(), text.size());
    if (doc.HasParseError() || !doc.IsObject()) return std::nullopt;
    auto format = doc.FindMember("format");
    auto entries = doc.FindMember("entries");
    if (format == doc.MemberEnd() || !format->value.IsInt() || format->value.GetInt() != 1 ||
        entries == doc.MemberEnd() || !entries->value.IsArray()) {
        return std::nullopt;
    }
    std::deque<DedupEntry> out;
    for (const auto& item : entries->value.GetArray()) {
        if (!item.IsObject()) return std::nullopt;
        auto id = item.FindMember("request_id");
        auto topic = item.FindMember("topic");
        auto payload = item.FindMember("payload");
        if (id == item.MemberEnd() || !id->value.IsString() || topic == item.MemberEnd() ||
            !topic->value.IsString() || payload == item.MemberEnd() || !payload->value.IsString()) {
            return std::nullopt;
        }
        out.push_back(DedupEntry{
            std::string(id->value.GetString(), id->value.GetStringLength()),
            RecordedResult{
                std::string(topic->value.GetString(), topic->value.GetStringLength()),
                std::string(payload->value.GetString(), payload->value.GetStringLength())}});
    }
    return out;
}

DedupStore::DedupStore(std::filesystem::path file, DedupLimits limits)
    : file_(std::move(file)), limits_(limits) {
    if (limits_.entries == 0) limits_.entries = 1;
    journal_path_ = file_;
    journal_path_.replace_extension(".journal");
    load();
}

namespace {
DedupLimits entries_only(std::size_t capacity) {
    DedupLimits limits;
    limits.entries = capacity;
    return limits;
}
}  // namespace

DedupStore::DedupStore(std::filesystem::path file, std::size_t capacity)
    : DedupStore(std::move(file), entries_only(capacity)) {}

void DedupStore::problem(const std::string& text) {
    if (!load_problem_.empty()) load_problem_ += "; ";
    load_problem_ += text;
}

void DedupStore::load() {
    const std::string base = load_whole_log();
    const bool damaged = load_journal(base);
    if (!dirty_ && journal_records_ == 0 && !damaged) return;
    // The journal's records (and the files they carry) become request_log.json now, before
    // anyone reads a carried file (the agent loads core_config.json after this store).
    try {
        compact_locked();
    } catch (const std::exception& e) {
        // A read-only data directory: served from memory; the next record tries again.
        problem(std::string("request log not rewritten (") + e.what() + ")");
    }
}

std::string DedupStore::load_whole_log() {
    std::error_code ec;
    if (!std::filesystem::exists(file_, ec)) return std::string(kNoBase);
    // A file this agent wrote is never over total_bytes; four times that leaves room for one
    // written with other limits, while one of an unbounded writer is not read into memory.
    const std::size_t read_limit = 4 * limits_.total_bytes;
    std::optional<std::string> text;
    std::string why;
    const auto size = std::filesystem::file_size(file_, ec);
    if (!ec && size > read_limit) {
        why = "is larger than " + std::to_string(read_limit) + " bytes";
    } else {
        try {
            // By descriptor, non-blocking, capped: a FIFO or device put in its place is refused.
            text = LocalFile::open(file_, read_limit).read_all();
        } catch (const std::exception& e) {
            why = std::string("cannot be read (") + e.what() + ")";
        }
    }
    std::optional<std::deque<DedupEntry>> loaded;
    if (text) {
        loaded = parse_dedup(*text);
        if (!loaded) why = "is corrupt";
    }
    if (!loaded) {
        const char* label = why.rfind("is larger", 0) == 0 ? "too-large" : "corrupt";
        try {
            const auto aside = move_aside(file_, label);
            problem("request log " + file_.string() + " " + why + "; moved to " + aside.string() +
                    ", starting with an empty record");
        } catch (const std::exception& e) {
            problem("request log " + file_.string() + " " + why + " and cannot be moved aside (" +
                    e.what() + "); starting with an empty record");
        }
        // No journal extends a file that was not read.
        return std::string();
    }
    const std::string base = journal_hash(*text);
    text.reset();
    const std::size_t on_disk = loaded->size();
    bool truncated = false;
    for (auto& entry : *loaded) {
        truncated |= fit(entry);
        add_locked(std::move(entry));
    }
    // A file of a writer with other limits: the next write keeps what fits these.
    dirty_ = truncated || entries_.size() != on_disk;
    return base;
}

bool DedupStore::load_journal(const std::string& base) {
    std::error_code ec;
    if (!std::filesystem::exists(journal_path_, ec)) return false;
    // Compacted past total_bytes: one more record (at most result_bytes plus its carried file)
    // beyond it. Four times, as for request_log.json, for a writer with other limits.
    const std::size_t read_limit = 4 * limits_.total_bytes;
    std::string text;
    std::string why;
    const auto size = std::filesystem::file_size(journal_path_, ec);
    const char* label = "corrupt";
    if (!ec && size > read_limit) {
        why = "is larger than " + std::to_string(read_limit) + " bytes";
        label = "too-large";
    } else {
        try {
            text = LocalFile::open(journal_path_, read_limit).read_all();
        } catch (const std::exception& e) {
            why = std::string("cannot be read (") + e.what() + ")";
        }
    }
    ParsedJournal parsed;
    if (why.empty()) {
        parsed = parse_journal(text);
        if (!parsed.base) {
            why = "has no valid header";
        } else if (*parsed.base != base) {
            why = "does not extend " + file_.filename().string() +
                  " (an older release wrote it since)";
            label = "stale";
        }
    }
    text.clear();
    if (!why.empty()) {
        problem("request log journal " + journal_path_.string() + " " + why + "; " +
                move_aside_saying(journal_path_, label) + ", its records not replayed");
        return false;
    }
    if (parsed.dropped > 0) {
        problem("request log journal " + journal_path_.string() + ": dropped " +
                std::to_string(parsed.dropped) +
                " damaged record(s) (a write cut short by a crash, or garbled); the " +
                std::to_string(parsed.records.size()) + " whole one(s) kept");
    }
    for (auto& record : parsed.records) {
        // As record(): the first answer wins.
        if (index_.count(key(record.entry.result.topic, record.entry.request_id)) == 0) {
            fit(record.entry);
            add_locked(std::move(record.entry));
        }
        if (!record.file.empty()) carried_[record.file] = std::move(record.content);
        ++journal_records_;
    }
    if (parsed.dropped > 0) return true;  // cut off by the compaction, before anything follows
    if (parsed.records.empty()) {
        // Empty and whole: appended to as it is (a start costs no write).
        try {
            journal_ = JournalFile::open(journal_path_);
        } catch (const std::exception&) {
            // Read-only: the first record tries again, by a compaction.
        }
    }
    return false;
}

std::string DedupStore::key(const std::string& topic, const std::string& request_id) {
    return topic + '\n' + request_id;
}

std::optional<RecordedResult> DedupStore::find(const std::string& topic,
                                               const std::string& request_id) const {
    std::lock_guard<std::mutex> lock(mutex_);
    if (index_.count(key(topic, request_id)) == 0) return std::nullopt;
    // The first answer wins: search from the oldest.
    for (const auto& entry : entries_) {
        if (entry.request_id == request_id && entry.result.topic == topic) return entry.result;
    }
    return std::nullopt;
}

bool DedupStore::fit(DedupEntry& entry) const {
    if (entry.result.payload.size() <= limits_.result_bytes) return false;
    entry.result.payload = truncated_result(entry.result.payload, entry.request_id);
    return true;
}

void DedupStore::add_locked(DedupEntry entry) {
    const std::size_t size = serialized_size(entry);
    ++index_[key(entry.result.topic, entry.request_id)];
    entries_.push_back(std::move(entry));
    entry_bytes_.push_back(size);
    bytes_ += size;
    // The newest entry always stays, whatever its size: it is the one a retry is about to ask.
    while (entries_.size() > 1 &&
           (entries_.size() > limits_.entries || bytes_ > limits_.total_bytes)) {
        const auto& old = entries_.front();
        const auto old_key = key(old.result.topic, old.request_id);
        if (--index_[old_key] == 0) index_.erase(old_key);
        bytes_ -= entry_bytes_.front();
        entries_.pop_front();
        entry_bytes_.pop_front();
    }
}

void DedupStore::record(const std::string& request_id, RecordedResult result,
                        Durability durability) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (index_.count(key(result.topic, request_id)) > 0) return;  // first result wins
    JournalRecord record{DedupEntry{request_id, std::move(result)}, {}, {}};
    fit(record.entry);
    add_locked(record.entry);
    dirty_ = true;
    append_locked(record, durability == Durability::immediate);
    compact_if_due_locked(durability == Durability::immediate);
}

void DedupStore::record_with_file(const std::string& request_id, RecordedResult result,
                                  const std::string& file_name, std::string content) {
    if (!journal_file_name_ok(file_name)) {
        throw std::invalid_argument("not a file name of the data directory: " + file_name);
    }
    std::lock_guard<std::mutex> lock(mutex_);
    JournalRecord record{DedupEntry{request_id, std::move(result)}, file_name, std::move(content)};
    fit(record.entry);
    // Durable first: on failure nothing is recorded, in memory or in the file.
    append_locked(record, true);
    carried_[file_name] = record.content;
    if (index_.count(key(record.entry.result.topic, request_id)) == 0) {
        add_locked(std::move(record.entry));
        dirty_ = true;
    }
    compact_if_due_locked(true);
    // Readers of the file (lucidctl, a reload) see it now; a power cut is covered by the journal.
    replace_file_unflushed(file_.parent_path() / file_name, record.content);
}

void DedupStore::append_locked(const JournalRecord& record, bool sync) {
    // No journal yet (or one a failed write gave up): start one; the record is appended to it.
    if (!journal_ || journal_->broken()) compact_locked();
    journal_->append(journal_line(record), sync);
    ++journal_records_;
}

void DedupStore::compact_if_due_locked(bool durable) {
    // Past the bound the journal costs more to read at start than the whole log: fold it in.
    if (!journal_) return;
    if (!(whole_writes_ && durable) && journal_->bytes() <= limits_.total_bytes) return;
    try {
        compact_locked();
    } catch (const std::exception& e) {
        // The record is durable in the journal already; the next record tries again.
        logger("commands")->warn("cannot compact the request log: {}", e.what());
    }
}

void DedupStore::set_whole_writes(bool on) {
    std::lock_guard<std::mutex> lock(mutex_);
    whole_writes_ = on;
}

void DedupStore::flush() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (dirty_ || journal_records_ > 0) compact_locked();
}

std::size_t DedupStore::size() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return entries_.size();
}

std::size_t DedupStore::bytes() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return bytes_;
}

void DedupStore::compact_locked() {
    // The journal stops being needed only once everything it holds is durable elsewhere: the
    // carried files first, then the whole log, then the new (empty) journal naming that log.
    // A crash between two steps replays a journal whose base still matches, or drops one whose
    // records are all in the log already.
    journal_.reset();
    for (const auto& [name, content] : carried_) {
        write_file_atomically(file_.parent_path() / name, content);
    }
    const std::string text = serialize_dedup(entries_);
    write_file_atomically(file_, text, real_file_ops(), 0600);
    journal_ = JournalFile::create(journal_path_, journal_hash(text));
    carried_.clear();
    journal_records_ = 0;
    dirty_ = false;
}

}  // namespace lucid::host::commands
