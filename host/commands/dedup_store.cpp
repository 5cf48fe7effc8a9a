#include "commands/dedup_store.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "common/atomic_file.hpp"
#include "common/local_file.hpp"
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

void DedupStore::load() {
    std::error_code ec;
    if (!std::filesystem::exists(file_, ec)) return;
    // A file this agent wrote is never over total_bytes; four times that leaves room for one
    // written with other limits, while one of an unbounded writer is not read into memory.
    const std::size_t read_limit = 4 * limits_.total_bytes;
    std::optional<std::string> text;
    std::string problem;
    const auto size = std::filesystem::file_size(file_, ec);
    if (!ec && size > read_limit) {
        problem = "is larger than " + std::to_string(read_limit) + " bytes";
    } else {
        try {
            // By descriptor, non-blocking, capped: a FIFO or device put in its place is refused.
            text = LocalFile::open(file_, read_limit).read_all();
        } catch (const std::exception& e) {
            problem = std::string("cannot be read (") + e.what() + ")";
        }
    }
    std::optional<std::deque<DedupEntry>> loaded;
    if (text) {
        loaded = parse_dedup(*text);
        if (!loaded) problem = "is corrupt";
    }
    text.reset();
    if (!loaded) {
        const char* label = problem.rfind("is larger", 0) == 0 ? "too-large" : "corrupt";
        try {
            const auto aside = move_aside(file_, label);
            load_problem_ = "request log " + file_.string() + " " + problem + "; moved to " +
                            aside.string() + ", starting with an empty record";
        } catch (const std::exception& e) {
            load_problem_ = "request log " + file_.string() + " " + problem +
                            " and cannot be moved aside (" + e.what() +
                            "); starting with an empty record";
        }
        return;
    }
    const std::size_t on_disk = loaded->size();
    bool truncated = false;
    for (auto& entry : *loaded) truncated |= add_locked(std::move(entry));
    // A file of a writer with other limits: the next write keeps what fits these.
    dirty_ = truncated || entries_.size() != on_disk;
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

bool DedupStore::add_locked(DedupEntry entry) {
    const bool truncate = entry.result.payload.size() > limits_.result_bytes;
    if (truncate) entry.result.payload = truncated_result(entry.result.payload, entry.request_id);
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
    return truncate;
}

void DedupStore::record(const std::string& request_id, RecordedResult result,
                        Durability durability) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (index_.count(key(result.topic, request_id)) > 0) return;  // first result wins
    add_locked(DedupEntry{request_id, std::move(result)});
    dirty_ = true;
    if (durability == Durability::immediate) write_locked();
}

void DedupStore::flush() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (dirty_) write_locked();
}

std::size_t DedupStore::size() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return entries_.size();
}

std::size_t DedupStore::bytes() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return bytes_;
}

void DedupStore::write_locked() {
    write_file_atomically(file_, serialize_dedup(entries_), real_file_ops(), 0600);
    dirty_ = false;
}

}  // namespace lucid::host::commands
