// Runs a staged build of the agent with `--version` before it is placed (contract §4.16): the
// build must start on this machine at all, and say the version the upgrade command names. The
// bytes ran only after their sha256 and signature were checked.
//
// Thread: any; blocking, at most `timeout`. Errors: returned, the upgrade result's text.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>

#include "common/expected.hpp"

namespace lucid::host::self_update {

// What `binary --version` printed (stdout and stderr, its first 4 KiB), when it exited 0 within
// `timeout`. Errors:
//   <binary> --version did not finish within <n> ms (killed)
//   <binary> --version exited <code>: <what it printed>
//   <binary> --version was killed by signal <n>
//   cannot run <binary>: <errno text>
Expected<std::string> probe_version(const std::filesystem::path& binary,
                                    std::chrono::milliseconds timeout);

// The version in what lucid-agent --version prints ("lucid-agent 1.2.3\n" → "1.2.3"); "" when
// it is not in that form.
std::string printed_version(const std::string& output);

}  // namespace lucid::host::self_update
