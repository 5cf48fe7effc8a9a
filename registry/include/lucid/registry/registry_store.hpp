// The registry file on disk: `{data}/registry.json` (contract §6).
//
// Every read and write holds an exclusive lock on `{data}/registry.lock`, so two processes
// (the agent and `lucidctl`, or two agents pointed at one directory by mistake) never interleave.
// Saves are atomic and durable (atomic_file.hpp). Nothing on disk is ever silently lost:
// - a corrupt or truncated registry.json is moved aside as `registry.corrupt.<ts>.json`;
// - a file with wrong-shape entries is copied aside as `registry.rejected.<ts>.json` before the
//   good entries are written back;
// - a legacy file is migrated and the original kept as `registry.legacy.<ts>.json` (registry.json
//   without `format`) or left untouched where it is (an imported components_registry.json);
// - a file of a newer format is refused (UnsupportedRegistryFormat), never rewritten.
// Each of these is reported to the caller in the LoadReport; the registry library never logs.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/atomic_file.hpp"
#include "lucid/registry/registry.hpp"

namespace lucid::registry {

struct LoadReport {
    Registry registry;
    std::vector<std::string> problems;  // human-readable, one per event worth reporting
    std::optional<std::filesystem::path> moved_aside;    // a corrupt file's new name
    std::optional<std::filesystem::path> rejected_copy;  // copy of a file with bad entries
    std::optional<std::filesystem::path> migrated_from;  // the legacy file that was imported
    std::optional<std::filesystem::path> legacy_backup;  // backup of it, when one was made
};

// Where the earlier agent may have left its registry, in the order they are tried when there
// is no registry.json: `{data}/components_registry.json`, then `legacy_env` (the value of
// LUCID_LEGACY_REGISTRY) or, when that is unset, the earlier default
// /var/lib/lucid/components.json.
std::vector<std::filesystem::path> legacy_registry_candidates(
    const std::filesystem::path& data_dir, const std::optional<std::string>& legacy_env);

class RegistryStore {
  public:
    // `legacy_candidates`: see legacy_registry_candidates(); empty means never import.
    explicit RegistryStore(std::filesystem::path data_dir,
                           std::vector<std::filesystem::path> legacy_candidates = {},
                           const host::FileOps& ops = host::real_file_ops());

    // Loads (and, when needed, migrates or repairs) the registry. Throws
    // UnsupportedRegistryFormat for a newer format and std::system_error for I/O failures.
    LoadReport load() const;

    // Replaces the file with `registry`. Throws std::system_error; the old file stays intact.
    void save(const Registry& registry) const;

    // Read-modify-write under one hold of the lock; returns the saved registry. When `mutate`
    // throws, nothing is written and the exception propagates.
    Registry update(const std::function<void(Registry&)>& mutate) const;

    const std::filesystem::path& path() const { return path_; }

  private:
    LoadReport load_locked() const;
    LoadReport read_locked() const;  // load_locked() without the clean-up of temporaries
    void save_locked(const Registry& registry) const;

    std::filesystem::path data_dir_;
    std::filesystem::path path_;
    std::filesystem::path lock_path_;
    std::vector<std::filesystem::path> legacy_candidates_;
    const host::FileOps& ops_;
};

}  // namespace lucid::registry
