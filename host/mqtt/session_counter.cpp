#include "mqtt/session_counter.hpp"

#include <string>

#include "common/atomic_file.hpp"
#include "common/logging.hpp"

namespace lucid::host::mqtt {

SessionCounter::SessionCounter(std::filesystem::path file) : file_(std::move(file)) {
    std::error_code ec;
    if (!std::filesystem::exists(file_, ec)) return;
    try {
        current_ = std::stoull(read_file(file_));
    } catch (const std::exception& e) {
        logger("mqtt")->warn("session counter {} unreadable ({}); starting from 0", file_.string(),
                             e.what());
    }
}

std::uint64_t SessionCounter::current() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return current_;
}

std::uint64_t SessionCounter::next() const { return current() + 1; }

void SessionCounter::commit(std::uint64_t session) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        current_ = session;
    }
    try {
        write_file_atomically(file_, std::to_string(session) + "\n");
    } catch (const std::exception& e) {
        logger("mqtt")->error("cannot persist session counter: {}", e.what());
    }
}

}  // namespace lucid::host::mqtt
