// The permissions of what the agent keeps under its data directory (SECURITY.md, "Files on
// disk"), and how its directories are created.
//
// Every mode is passed explicitly where the file or directory is created (open(), mkdir()), so a
// permissive umask (000 under some shells and service managers) never makes the registry, the
// request log or a loaded .so writable by other users. A stricter umask still tightens them.
// Files written with write_file_atomically() get their mode again on every save.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>

namespace lucid::host {

// The data directory and its sub-directories: the agent writes, its group (an operator group
// that runs `lucidctl plugin list` offline) may read, others nothing.
inline constexpr mode_t kDataDirMode = 0750;
// Downloads that are not verified yet: nobody but the agent has any business there.
inline constexpr mode_t kStagingDirMode = 0700;
// registry.json, config files, markers, component .so files: read-only for the group.
inline constexpr mode_t kDataFileMode = 0640;
// request_log.json and request_log.journal repeat command results, which may echo what a client
// sent: owner only.
inline constexpr mode_t kPrivateFileMode = 0600;

// Creates `dir` and every missing parent with `mode`; existing directories keep their mode.
// Throws std::system_error whose message names the directory ("cannot create directory '…'")
// and whose code is the errno (EROFS, ENOSPC, EACCES, ...).
void make_directories(const std::filesystem::path& dir, mode_t mode = kDataDirMode);

// A directory any user may write to lets anyone plant a registry or a .so the agent will load:
// when `dir` is writable by others, it is chmod'ed to `mode` and a description of the change is
// returned. Any other mode is an operator's choice and left alone (nullopt). Throws
// std::system_error when the mode cannot be read or changed.
std::optional<std::string> tighten_if_world_writable(const std::filesystem::path& dir,
                                                     mode_t mode = kDataDirMode);

}  // namespace lucid::host
