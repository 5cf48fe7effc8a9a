// When the `restart` command may exit the agent (contract §4.9).
//
// Exiting only makes sense under a service manager that starts us again (the `supervised`
// setting, config/supervision.hpp). Restarts closer than 10 s apart are refused, across agent
// restarts too: the last restart time is persisted in `{data}/last_restart`, so a command loop
// cannot make the agent flap.
//
// The agent exits with kRestartExitCode (75, EX_TEMPFAIL): non-zero, so `Restart=on-failure`
// restarts it, and distinct from crash codes in the journal.
// Thread: pure functions; RestartRecord is used from the command lane only.
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>

#include "common/expected.hpp"

namespace lucid::host::commands {

inline constexpr int kRestartExitCode = 75;
inline constexpr std::chrono::seconds kMinRestartInterval{10};

// nullopt when the restart may proceed, else the exact result error.
Status restart_refusal(bool supervised,
                       std::optional<std::chrono::system_clock::time_point> last_restart,
                       std::chrono::system_clock::time_point now);

class RestartRecord {
  public:
    explicit RestartRecord(std::filesystem::path file);
    std::optional<std::chrono::system_clock::time_point> last() const;
    // Durable; throws std::system_error when the file cannot be written.
    void save(std::chrono::system_clock::time_point when) const;

  private:
    std::filesystem::path file_;
};

}  // namespace lucid::host::commands
