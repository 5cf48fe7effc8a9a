// Where component files live and how they get there (contract §4, §6):
//
//   {data}/staging/                       downloads and inline data, one file per install
//   {data}/components/{dist}/{version}/   the verified artifact, moved in by rename
//
// Crash safety comes from ordering, not from a journal: an install places the file first and
// updates the registry after; an uninstall updates the registry first and deletes after. So a
// crash leaves at worst an unreferenced file, which `recover()` removes at the next start, or
// a staging leftover, which it also removes. An entry whose file vanished anyway (someone deleted
// it) is reported and dropped, or rolled back to its kept previous version when that exists.
// Unreferenced files are removed one by one, also inside a version folder the registry names.
// `recover()` also removes the temporaries of atomic writes a killed agent left in the data
// directory and in ComponentManager's marker directories (`starting/`, `quarantine/`), and
// takes away a world-writable mode from the components directory.
//
// Paths are compared by their segments under components/ or by what they resolve to
// (resolved_path), never as absolute text: the registry keeps
// each path as it was at install, and the data directory may be reached another way at the next
// start (systemd's DynamicUser= with StateDirectory= makes /var/lib/lucid a symlink).
//
// Modes (file_modes.hpp): directories 0750, staging 0700, placed files 0640.
//
// Thread: not thread-safe; the agent's component lane is the only caller.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "lucid/registry/registry.hpp"

namespace lucid::host::install {

// `path` with every symlink of its existing part resolved (std::filesystem::weakly_canonical),
// or only lexically normalised when that fails: for comparing two paths to one file.
std::filesystem::path resolved_path(const std::filesystem::path& path);

class ComponentFiles {
  public:
    explicit ComponentFiles(std::filesystem::path data_dir);

    // A fresh path in the staging directory for one download (the file does not exist yet).
    std::filesystem::path new_staging_path(const std::string& file_name);

    // The refusal of a second build under one version (whatever its file name): a version folder
    // holds one build, and a loaded file is never overwritten.
    static std::string different_build_error(const std::string& dist_name,
                                             const std::string& version);

    struct Placed {
        std::filesystem::path path;  // the file the registry is to name
        bool created = false;        // false: an identical file was already there and is reused
    };
    // Moves a verified staged file to components/{dist}/{version}/{file_name} (chmod 0640,
    // fsync, rename, fsync) and returns the final path. I/O errors throw std::system_error
    // naming the step and the path. Builds are compared by sha256, never by file name: when the
    // version folder already holds a file with that sha256 (a crash after placing it, a
    // reinstall, the same build under another name) that file is reused and the staged one
    // dropped; any other file there is a different build of the same dist and version, refused
    // with different_build_error().
    Placed place(const std::filesystem::path& staged, const std::string& dist_name,
                 const std::string& version, const std::string& file_name,
                 const std::string& sha256);
    // Undoes place() of a failed install: the file when place() created it, then its version
    // and dist folders when they are left empty. `placed.path` empty: only the empty folders of
    // a place() that threw.
    void discard(const Placed& placed, const std::string& dist_name, const std::string& version);

    // Deletes a version directory (and the dist directory when it becomes empty).
    void remove_version(const std::string& dist_name, const std::string& version);

    struct Recovery {
        registry::Registry registry;        // the registry made consistent with the files
        bool registry_changed = false;      // the caller saves it when true
        std::vector<std::string> problems;  // what was repaired, for the log
    };
    // Makes files and registry agree after a crash (see the header comment). With
    // `keep_unreferenced` (the registry was corrupt and moved aside, so "unreferenced" means
    // "no longer known", not "left by a crash") no component file is removed: they are what an
    // operator needs to restore the moved-aside registry. The files in `pending` (of installs
    // the death interrupted) are kept for the lifecycle to decide on: it may register one
    // (lifecycle_quarantine.cpp); the next start removes what it did not.
    Recovery recover(const registry::Registry& registry, bool keep_unreferenced = false,
                     const std::vector<std::string>& pending = {});

    const std::filesystem::path& components_dir() const { return components_dir_; }
    const std::filesystem::path& staging_dir() const { return staging_dir_; }

  private:
    std::filesystem::path data_dir_;
    std::filesystem::path components_dir_;
    std::filesystem::path staging_dir_;
};

}  // namespace lucid::host::install
