#include "agent/log_stream.hpp"

#include <algorithm>

#include <rapidjson/document.h>

#include "common/log_levels.hpp"
#include "common/logging.hpp"
#include "contract/payloads.hpp"
#include "contract/timestamp.hpp"

namespace lucid::host::agent {
namespace {

// While streaming with no temporary stream to end, the thread still looks at its levels this
// often (a bound, not a poll: lines and changes wake it at once).
constexpr auto kIdleRecheck = std::chrono::seconds(60);

rapidjson::Value stream_json_text(std::string_view s, rapidjson::Document::AllocatorType& a) {
    return rapidjson::Value(s.data(), static_cast<rapidjson::SizeType>(s.size()), a);
}

}  // namespace

LogStream::LogStream(LogTap& tap, Publish publish) : tap_(tap), publish_(std::move(publish)) {}

LogStream::~LogStream() { stop(); }

void LogStream::configure(bool enabled, spdlog::level::level_enum level) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        enabled_ = enabled;
        level_ = level;
        apply_level();
    }
    changed_.notify_all();
    tap_.interrupt();
}

void LogStream::apply_level() {
    // Applied before the command that changed it is answered: a line logged after the answer
    // is filtered by the new level. Under mutex_, so that two changes apply in their order (the
    // tap never calls back into the stream).
    std::optional<Steady::time_point> next;
    tap_.set_stream_level(level_now(Steady::now(), next));
}

std::chrono::system_clock::time_point LogStream::stream_for(spdlog::level::level_enum level,
                                                            std::chrono::seconds seconds) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        auto& end = temporary_[level];
        end = std::max(end, Steady::now() + seconds);
        apply_level();
    }
    changed_.notify_all();
    tap_.interrupt();
    return std::chrono::system_clock::now() + seconds;
}

void LogStream::start() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (thread_.joinable()) return;
    stopping_ = false;
    thread_ = std::thread([this] { run(); });
}

void LogStream::stop() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stopping_ = true;
    }
    changed_.notify_all();
    tap_.interrupt();
    if (thread_.joinable()) thread_.join();
    tap_.set_stream_level(std::nullopt);
}

std::optional<spdlog::level::level_enum> LogStream::level_now(
    Steady::time_point now, std::optional<Steady::time_point>& next,
    std::vector<spdlog::level::level_enum>* ended) {
    std::optional<spdlog::level::level_enum> level;
    if (enabled_) level = level_;
    next.reset();
    for (auto it = temporary_.begin(); it != temporary_.end();) {
        if (it->second <= now) {
            if (ended) ended->push_back(it->first);
            it = temporary_.erase(it);
            continue;
        }
        level = level ? std::min(*level, it->first) : it->first;
        next = next ? std::min(*next, it->second) : it->second;
        ++it;
    }
    return level;
}

void LogStream::run() {
    LogTap::mute_this_thread();
    std::unique_lock<std::mutex> lock(mutex_);
    while (!stopping_) {
        std::optional<Steady::time_point> next;
        std::vector<spdlog::level::level_enum> ended;
        const auto level = level_now(Steady::now(), next, &ended);
        tap_.set_stream_level(level);
        lock.unlock();
        // This thread is muted: the line goes to the log file and the kept lines only.
        for (const auto l : ended) {
            logger("agent")->info("the temporary log stream at {} ended", stream_level_name(l));
        }
        if (!level) {
            lock.lock();
            // Nothing streams: no wake-up at all until a change.
            changed_.wait(lock, [&] {
                std::optional<Steady::time_point> ignored;
                return stopping_ || level_now(Steady::now(), ignored).has_value();
            });
            continue;
        }
        const auto until = next.value_or(Steady::now() + kIdleRecheck);
        // Lines the rate cut are said without waiting for another line to come.
        if (!say_cut_ && !tap_.wait_for(1, until)) {
            lock.lock();
            continue;
        }
        const auto first = Steady::now();
        refill(first);
        if (tokens_ < static_cast<double>(kBatchLines)) {
            // The rate is spent (a flood): wait for a batch's worth, while the tap's bounded
            // queue takes what comes and counts what it cannot. Messages stay full and few.
            const double missing = static_cast<double>(kBatchLines) - tokens_;
            const auto full = first + std::chrono::duration_cast<Steady::duration>(
                                          std::chrono::duration<double>(missing / kLinesPerSecond));
            lock.lock();
            changed_.wait_until(lock, full, [&] { return stopping_; });
            if (stopping_) break;
            lock.unlock();
            refill(Steady::now());
        }
        // The first line waits for kBatchLines more, or kBatchWindow at most.
        tap_.wait_for(kBatchLines, first + kBatchWindow);
        publish_batch();
        lock.lock();
    }
}

void LogStream::refill(Steady::time_point now) {
    const double earned = std::chrono::duration<double>(now - refilled_).count() * kLinesPerSecond;
    tokens_ = std::min(kLinesPerSecond, tokens_ + earned);
    refilled_ = now;
}

void LogStream::publish_batch() {
    auto taken = tap_.take(kBatchLines);
    refill(Steady::now());
    const auto allowed =
        std::min<std::size_t>(taken.lines.size(), static_cast<std::size_t>(tokens_));
    // Lines cut by the rate come after this message's lines: the next message says so.
    const std::uint64_t cut = taken.lines.size() - allowed;
    const std::uint64_t dropped = carried_dropped_ + taken.dropped;
    taken.lines.resize(allowed);
    tokens_ -= static_cast<double>(allowed);
    say_cut_ = false;
    if (taken.lines.empty() && dropped == 0) {
        carried_dropped_ = cut;
        say_cut_ = cut > 0;
        return;
    }
    if (publish_(payload(taken.lines, dropped, std::chrono::system_clock::now()))) {
        carried_dropped_ = cut;
        say_cut_ = cut > 0;
    } else {
        // Not connected: said with the next message, whenever a line comes.
        carried_dropped_ = dropped + taken.lines.size() + cut;
    }
}

std::string LogStream::payload(const std::vector<LogLine>& lines, std::uint64_t dropped,
                               std::chrono::system_clock::time_point now) {
    rapidjson::Document doc(rapidjson::kObjectType);
    auto& a = doc.GetAllocator();
    doc.AddMember("schema", stream_json_text(contract::kSchema, a), a);
    doc.AddMember("ts", stream_json_text(contract::utc_timestamp(now), a), a);
    rapidjson::Value array(rapidjson::kArrayType);
    for (const auto& line : lines) {
        rapidjson::Value item(rapidjson::kObjectType);
        item.AddMember("ts", stream_json_text(contract::utc_timestamp(line.ts), a), a);
        item.AddMember("level", stream_json_text(stream_level_name(line.level), a), a);
        item.AddMember("logger", stream_json_text(line.logger, a), a);
        item.AddMember("message", stream_json_text(line.message, a), a);
        array.PushBack(item, a);
    }
    doc.AddMember("lines", array, a);
    doc.AddMember("dropped", dropped, a);
    // Valid UTF-8 whatever a plugin logged (contract §3.1).
    return contract::to_json(doc);
}

}  // namespace lucid::host::agent
