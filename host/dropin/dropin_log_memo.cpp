#include "dropin/dropin_log_memo.hpp"

namespace lucid::host::dropin {

bool DropinLogMemo::first_time(const std::filesystem::path& file, const std::string& outcome) {
    Seen now{file_version(file), file_version(file.string() + ".sig"), outcome};
    std::lock_guard<std::mutex> lock(mutex_);
    auto [it, inserted] = seen_.try_emplace(file.string(), now);
    if (inserted) return true;
    Seen& before = it->second;
    if (before.file == now.file && before.signature == now.signature &&
        before.outcome == now.outcome) {
        return false;
    }
    before = std::move(now);
    return true;
}

void DropinLogMemo::forget(const std::filesystem::path& file) {
    std::lock_guard<std::mutex> lock(mutex_);
    seen_.erase(file.string());
}

}  // namespace lucid::host::dropin
