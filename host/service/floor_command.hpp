// lucid-agent floor list | floor reset DIST [--to VERSION] (contract §8.12): an operator on the
// device reads and lowers the version floors in the data directory's trust state. It works beside
// a running agent: the agent reads the file, under its lock, at every install.
//
// reset is for local root only: a floor is what keeps a signed old artifact out, and nothing that
// arrives over the network may lower it without permission (allow_downgrade).
// Run as root, both leave the trust state and its lock file to the data directory's owner and
// group (TrustState::give_files_to_directory_owner): the agent runs as that user.
// Exit codes: 0 done; 1 the trust state cannot be read or written, or DIST has no floor to
// remove; 2 not root (reset). Thread: main thread only.
#pragma once

#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace lucid::host::service {

// `arguments`: {"list"} or {"reset", DIST}; `to`: --to VERSION.
int floor_command(const std::vector<std::string>& arguments, const std::optional<std::string>& to,
                  const std::filesystem::path& data_dir, std::FILE* out, std::FILE* err);

}  // namespace lucid::host::service
