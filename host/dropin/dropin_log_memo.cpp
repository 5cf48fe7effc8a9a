#include "dropin/dropin_log_memo.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <system_error>
#include <vector>

#include "common/atomic_file.hpp"
#include "common/logging.hpp"

namespace lucid::host::dropin {
namespace {

constexpr std::uintmax_t kMaxMemoryFileBytes = 1024 * 1024;

// Replaced atomically but not synced: a power cut may cost a repeated log line, and a refused
// file must not cost an fsync at every look.
class UnsyncedFileOps : public FileOps {
  public:
    int fsync(int) const override { return 0; }
};

void write_version(rapidjson::Writer<rapidjson::StringBuffer>& w, const FileVersion& v) {
    w.StartArray();
    w.Bool(v.exists);
    w.Uint64(v.size);
    w.Int64(v.mtime_s);
    w.Int64(v.mtime_ns);
    w.EndArray();
}

bool read_version(const rapidjson::Value& value, FileVersion& v) {
    if (!value.IsArray() || value.Size() != 4 || !value[0].IsBool() || !value[1].IsUint64() ||
        !value[2].IsInt64() || !value[3].IsInt64()) {
        return false;
    }
    v = FileVersion{value[0].GetBool(), value[1].GetUint64(), value[2].GetInt64(),
                    value[3].GetInt64()};
    return true;
}

}  // namespace

DropinLogMemo::DropinLogMemo(std::filesystem::path memory_file)
    : memory_file_(std::move(memory_file)) {
    if (!memory_file_.empty()) load();
}

bool DropinLogMemo::first_time(const std::filesystem::path& file, const std::string& outcome) {
    // An empty .sig counts as none: it is one being written in place (the README's openssl
    // recipe), and the file it belongs to is refused as unsigned again meanwhile — not news.
    FileVersion signature = file_version(file.string() + ".sig");
    if (signature.exists && signature.size == 0) signature = FileVersion{};
    Seen now{file_version(file), signature, outcome};
    std::lock_guard<std::mutex> lock(mutex_);
    auto [it, inserted] = seen_.try_emplace(file.string(), now);
    if (!inserted) {
        Seen& before = it->second;
        if (before.file == now.file && before.signature == now.signature &&
            before.outcome == now.outcome) {
            if (before.from_earlier_start) {
                ++quiet_from_earlier_;
                before.from_earlier_start = false;  // counted once per start
            }
            return false;
        }
        before = std::move(now);
    }
    it->second.order = next_order_++;
    if (seen_.size() > kMaxEntries) {
        auto oldest = seen_.begin();
        for (auto e = seen_.begin(); e != seen_.end(); ++e) {
            if (e->second.order < oldest->second.order) oldest = e;
        }
        seen_.erase(oldest);
    }
    save();
    return true;
}

void DropinLogMemo::forget(const std::filesystem::path& file) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (seen_.erase(file.string())) save();
}

std::size_t DropinLogMemo::quiet_from_earlier_starts() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return quiet_from_earlier_;
}

void DropinLogMemo::load() {
    std::error_code ec;
    if (!std::filesystem::exists(memory_file_, ec)) return;
    std::string text;
    try {
        if (!std::filesystem::is_regular_file(memory_file_) ||
            std::filesystem::file_size(memory_file_) > kMaxMemoryFileBytes) {
            load_problem_ = memory_file_.string() + ": not a regular file of at most 1 MiB";
            return;
        }
        text = read_file(memory_file_);
    } catch (const std::exception& e) {
        load_problem_ = e.what();
        return;
    }
    rapidjson::Document doc;
    doc.Parse<rapidjson::kParseStopWhenDoneFlag>(text.c_str(), text.size());
    if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("files") ||
        !doc["files"].IsArray()) {
        load_problem_ = memory_file_.string() + ": not a drop-in log memory; starting empty";
        return;
    }
    for (const auto& item : doc["files"].GetArray()) {
        if (seen_.size() >= kMaxEntries) break;
        Seen seen;
        if (!item.IsObject() || !item.HasMember("path") || !item["path"].IsString() ||
            !item.HasMember("outcome") || !item["outcome"].IsString() || !item.HasMember("file") ||
            !read_version(item["file"], seen.file) || !item.HasMember("sig") ||
            !read_version(item["sig"], seen.signature)) {
            continue;  // one bad entry costs one repeated log line, nothing more
        }
        seen.outcome.assign(item["outcome"].GetString(), item["outcome"].GetStringLength());
        seen.from_earlier_start = true;
        seen.order = next_order_++;
        seen_[std::string(item["path"].GetString(), item["path"].GetStringLength())] =
            std::move(seen);
    }
}

void DropinLogMemo::save() {
    if (memory_file_.empty()) return;
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
    w.StartObject();
    w.Key("files");
    w.StartArray();
    // Oldest first, so that a reload forgets the same ones.
    std::vector<std::pair<const std::string*, const Seen*>> by_age;
    for (const auto& [path, seen] : seen_) by_age.emplace_back(&path, &seen);
    std::sort(by_age.begin(), by_age.end(),
              [](const auto& a, const auto& b) { return a.second->order < b.second->order; });
    for (const auto& [path_ptr, seen_ptr] : by_age) {
        const std::string& path = *path_ptr;
        const Seen& seen = *seen_ptr;
        w.StartObject();
        w.Key("path");
        w.String(path.c_str(), static_cast<rapidjson::SizeType>(path.size()));
        w.Key("outcome");
        w.String(seen.outcome.c_str(), static_cast<rapidjson::SizeType>(seen.outcome.size()));
        w.Key("file");
        write_version(w, seen.file);
        w.Key("sig");
        write_version(w, seen.signature);
        w.EndObject();
    }
    w.EndArray();
    w.EndObject();
    try {
        static const UnsyncedFileOps unsynced;
        write_file_atomically(memory_file_, {buffer.GetString(), buffer.GetSize()}, unsynced);
    } catch (const std::exception& e) {
        // Only log lines are at stake: the memory stays in this process.
        logger("dropin")->debug("cannot save the drop-in log memory: {}", e.what());
    }
}

}  // namespace lucid::host::dropin
