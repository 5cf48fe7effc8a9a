// A directory the agent loads code from (the data directory, the drop-in directory) must not be
// writable by every user: anyone could plant a registry or a .so that then runs as the agent.
// Thread: any. Errors: none thrown; logged.
#pragma once

#include <filesystem>

namespace lucid::host {

// Makes `dir` 0750 when others may write to it and logs a WARN naming the change; when that is
// not possible (another owner, a read-only mount) logs an ERROR and leaves it: the agent runs.
void guard_against_world_writable(const std::filesystem::path& dir, const char* logger_name);

}  // namespace lucid::host
