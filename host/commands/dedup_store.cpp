#include "commands/dedup_store.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "common/logging.hpp"
#include "lucid/registry/atomic_file.hpp"

namespace lucid::host::commands {

std::string serialize_dedup(const std::deque<DedupEntry>& entries) {
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
    w.StartObject();
    w.Key("format");
    w.Int(1);
    w.Key("entries");
    w.StartArray();
    for (const auto& e : entries) {
        w.StartObject();
        w.Key("request_id");
        w.String(e.request_id);
        w.Key("topic");
        w.String(e.result.topic);
        // Kept as a string, not re-parsed JSON, so the republished bytes are the original ones.
        w.Key("payload");
        w.String(e.result.payload);
        w.EndObject();
    }
    w.EndArray();
    w.EndObject();
    return std::string(buffer.GetString(), buffer.GetSize()) + "\n";
}

std::optional<std::deque<DedupEntry>> parse_dedup(const std::string& text) {
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

DedupStore::DedupStore(std::filesystem::path file, std::size_t capacity)
    : file_(std::move(file)), capacity_(capacity == 0 ? 1 : capacity) {
    std::error_code ec;
    if (!std::filesystem::exists(file_, ec)) return;
    std::optional<std::deque<DedupEntry>> loaded;
    try {
        loaded = parse_dedup(registry::read_file(file_));
    } catch (const std::exception& e) {
        load_problem_ = e.what();
    }
    if (!loaded) {
        try {
            const auto aside = registry::move_aside(file_, "corrupt");
            load_problem_ =
                "request log " + file_.string() + " is corrupt; moved to " + aside.string();
        } catch (const std::exception& e) {
            load_problem_ = "request log " + file_.string() + " is corrupt: " + e.what();
        }
        return;
    }
    for (auto& entry : *loaded) {
        ++index_[key(entry.result.topic, entry.request_id)];
        entries_.push_back(std::move(entry));
    }
    while (entries_.size() > capacity_) {
        const auto& old = entries_.front();
        if (--index_[key(old.result.topic, old.request_id)] == 0) {
            index_.erase(key(old.result.topic, old.request_id));
        }
        entries_.pop_front();
    }
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

void DedupStore::record(const std::string& request_id, RecordedResult result,
                        Durability durability) {
    std::lock_guard<std::mutex> lock(mutex_);
    const auto k = key(result.topic, request_id);
    if (index_.count(k) > 0) return;  // first result wins
    ++index_[k];
    entries_.push_back(DedupEntry{request_id, std::move(result)});
    while (entries_.size() > capacity_) {
        const auto& old = entries_.front();
        const auto old_key = key(old.result.topic, old.request_id);
        if (--index_[old_key] == 0) index_.erase(old_key);
        entries_.pop_front();
    }
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

void DedupStore::write_locked() {
    registry::write_file_atomically(file_, serialize_dedup(entries_), registry::real_file_ops(),
                                    0600);
    dirty_ = false;
}

}  // namespace lucid::host::commands
