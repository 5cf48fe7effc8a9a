#include "commands/restart_policy.hpp"

#include <string>

#include "common/atomic_file.hpp"

namespace lucid::host::commands {

Status restart_refusal(bool supervised,
                       std::optional<std::chrono::system_clock::time_point> last_restart,
                       std::chrono::system_clock::time_point now) {
    if (!supervised) return Error{Errc::refused, std::string("not supervised")};
    if (last_restart) {
        // A wall clock that stepped backwards counts as "recent" too: refusing one restart is
        // cheaper than a restart loop.
        const auto elapsed = now - *last_restart;
        if (elapsed < kMinRestartInterval && elapsed > -kMinRestartInterval) {
            return Error{Errc::refused,
                         std::string("restart refused: the last restart was less than 10 s ago")};
        }
    }
    return done();
}

RestartRecord::RestartRecord(std::filesystem::path file) : file_(std::move(file)) {}

std::optional<std::chrono::system_clock::time_point> RestartRecord::last() const {
    try {
        std::error_code ec;
        if (!std::filesystem::exists(file_, ec)) return std::nullopt;
        const auto ms = std::stoll(read_file(file_));
        return std::chrono::system_clock::time_point(std::chrono::milliseconds(ms));
    } catch (const std::exception&) {
        return std::nullopt;  // unreadable: do not block restarts forever
    }
}

void RestartRecord::save(std::chrono::system_clock::time_point when) const {
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(when.time_since_epoch()).count();
    write_file_atomically(file_, std::to_string(ms) + "\n");
}

}  // namespace lucid::host::commands
