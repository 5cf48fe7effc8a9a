#include "install/component_files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <set>
#include <stdexcept>
#include <system_error>
#include <vector>

#include "common/atomic_file.hpp"
#include "common/file_modes.hpp"
#include "install/digest.hpp"

namespace lucid::host::install {
namespace fs = std::filesystem;
namespace {

void fsync_path(const fs::path& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    ::fsync(fd);
    ::close(fd);
}

[[noreturn]] void fail(const std::string& what, int error) {
    throw std::system_error(error, std::generic_category(), what);
}

bool is_inside(const fs::path& file, const fs::path& dir) {
    const auto rel = file.lexically_normal().lexically_relative(dir.lexically_normal());
    return !rel.empty() && *rel.begin() != "..";
}

}  // namespace

fs::path resolved_path(const fs::path& path) {
    std::error_code ec;
    fs::path out = fs::weakly_canonical(path, ec);
    return ec ? path.lexically_normal() : out;
}

ComponentFiles::ComponentFiles(fs::path data_dir)
    : data_dir_(std::move(data_dir)),
      components_dir_(data_dir_ / "components"),
      staging_dir_(data_dir_ / "staging") {}

fs::path ComponentFiles::new_staging_path(const std::string& file_name) {
    static std::atomic<unsigned> counter{0};
    make_directories(staging_dir_, kStagingDirMode);
    return staging_dir_ /
           (std::to_string(::getpid()) + "." + std::to_string(counter++) + "." + file_name);
}

std::string ComponentFiles::different_build_error(const std::string& dist_name,
                                                  const std::string& version) {
    return "version " + version + " of " + dist_name +
           " is already installed with a different sha256; publish the new build under a new "
           "version";
}

ComponentFiles::Placed ComponentFiles::place(const fs::path& staged, const std::string& dist_name,
                                             const std::string& version,
                                             const std::string& file_name,
                                             const std::string& sha256) {
    const fs::path dir = components_dir_ / dist_name / version;
    const fs::path target = dir / file_name;
    // dist_name, version and file_name were validated upstream; this is the last line of
    // defence against a path that would leave the components directory.
    if (!is_inside(target, components_dir_)) {
        throw std::invalid_argument("refusing to place a file outside the components directory");
    }
    make_directories(dir);
    std::error_code ec;
    // By content, not by name: `X-1.0.0.so` and `x-1.0.0-any.so` of one dist and version are
    // the same version, and only one build of it may exist.
    for (const auto& present : fs::directory_iterator(dir, ec)) {
        if (!present.is_regular_file(ec)) continue;
        if (sha256_file(present.path()) != sha256) {
            throw std::runtime_error(different_build_error(dist_name, version));
        }
        fs::remove(staged, ec);
        return Placed{present.path(), false};
    }
    // Whatever the source (a download, inline data, a copied drop-in), a loaded library is never
    // writable by others; and its bytes are on disk before the name is, or a power cut could
    // leave an empty file under the name the registry is about to record.
    if (::chmod(staged.c_str(), kDataFileMode) != 0) {
        fail("cannot set the mode of '" + staged.string() + "'", errno);
    }
    fsync_path(staged);
    if (::rename(staged.c_str(), target.c_str()) != 0) {
        fail("cannot move '" + staged.string() + "' to '" + target.string() + "'", errno);
    }
    // The registry will point at this file: make the rename durable before that happens.
    fsync_path(dir);
    fsync_path(dir.parent_path());
    return Placed{target, true};
}

void ComponentFiles::discard(const Placed& placed, const std::string& dist_name,
                             const std::string& version) {
    const fs::path dir = components_dir_ / dist_name / version;
    if (dist_name.empty() || version.empty() || !is_inside(dir, components_dir_)) return;
    std::error_code ec;
    if (placed.created && !placed.path.empty()) fs::remove(placed.path, ec);
    if (fs::is_empty(dir, ec)) fs::remove(dir, ec);
    if (fs::is_empty(dir.parent_path(), ec)) fs::remove(dir.parent_path(), ec);
}

void ComponentFiles::remove_version(const std::string& dist_name, const std::string& version) {
    const fs::path dir = components_dir_ / dist_name / version;
    if (dist_name.empty() || version.empty() || !is_inside(dir, components_dir_)) return;
    std::error_code ec;
    fs::remove_all(dir, ec);
    if (fs::is_empty(dir.parent_path(), ec)) fs::remove(dir.parent_path(), ec);
}

ComponentFiles::Recovery ComponentFiles::recover(const registry::Registry& current,
                                                 bool keep_unreferenced,
                                                 const std::vector<std::string>& pending) {
    Recovery out;
    out.registry = current;
    std::error_code ec;

    // Modes first (SECURITY.md, "Files on disk"): a directory anyone may write to lets anyone
    // plant what the agent loads (the agent checks the data directory itself when it starts).
    // Staging is the agent's alone, whatever it was.
    try {
        if (auto changed = tighten_if_world_writable(components_dir_)) {
            out.problems.push_back(*changed);
        }
    } catch (const std::system_error& e) {
        if (e.code() != std::errc::no_such_file_or_directory) out.problems.push_back(e.what());
    }
    if (fs::exists(staging_dir_, ec) && ::chmod(staging_dir_.c_str(), kStagingDirMode) != 0) {
        out.problems.push_back("cannot change the mode of " + staging_dir_.string());
    }

    // Temporaries of atomic writes (request log, config, markers) a killed agent left behind.
    for (const auto& dir :
         {data_dir_, data_dir_ / "starting", data_dir_ / "installing", data_dir_ / "quarantine"}) {
        for (const auto& removed : remove_interrupted_writes(dir)) {
            out.problems.push_back("removed " + removed.string() +
                                   ", left by an interrupted write");
        }
    }

    if (fs::exists(staging_dir_, ec)) {
        for (const auto& leftover : fs::directory_iterator(staging_dir_, ec)) {
            fs::remove_all(leftover.path(), ec);
            out.problems.push_back("removed staging leftover " + leftover.path().string());
        }
    }

    for (const auto& [id, entry] : current.entries()) {
        if (entry.kind != registry::EntryKind::native || fs::exists(entry.path, ec)) continue;
        registry::Entry repaired = entry;
        if (entry.previous && fs::exists(entry.previous->path, ec)) {
            repaired.version = entry.previous->version;
            repaired.sha256 = entry.previous->sha256;
            repaired.path = entry.previous->path;
            repaired.previous.reset();
            out.registry.put(repaired);
            out.problems.push_back("component " + id + ": " + entry.path +
                                   " is missing; rolled back to version " + repaired.version);
        } else {
            out.registry.erase(id);
            out.problems.push_back("component " + id + ": " + entry.path +
                                   " is missing; removed from the registry");
        }
        out.registry_changed = true;
    }

    // Files no entry references are what an interrupted install or uninstall left behind, or
    // what an older agent let a failed install leave beside a referenced one: removed file by
    // file. Keyed by the last segments (dist/version/file), as they are under components/.
    std::set<std::string> referenced_files;
    std::set<std::string> referenced_dirs;
    const auto reference = [&](const std::string& path) {
        if (path.empty()) return;
        const fs::path p = fs::path(path).lexically_normal();
        const std::string dir = p.parent_path().parent_path().filename().string() + "/" +
                                p.parent_path().filename().string();
        referenced_dirs.insert(dir);
        referenced_files.insert(dir + "/" + p.filename().string());
    };
    for (const auto& [id, entry] : out.registry.entries()) {
        reference(entry.path);
        if (entry.previous) reference(entry.previous->path);
    }
    for (const auto& path : pending) reference(path);
    if (fs::exists(components_dir_, ec)) {
        for (const auto& dist : fs::directory_iterator(components_dir_, ec)) {
            for (const auto& version : fs::directory_iterator(dist.path(), ec)) {
                const std::string dir =
                    dist.path().filename().string() + "/" + version.path().filename().string();
                if (!referenced_dirs.count(dir) && keep_unreferenced) {
                    out.problems.push_back("kept " + version.path().string() +
                                           ": the registry that referenced it was moved aside");
                    continue;
                }
                if (!referenced_dirs.count(dir)) {
                    fs::remove_all(version.path(), ec);
                    out.problems.push_back("removed unreferenced " + version.path().string());
                    continue;
                }
                std::vector<fs::path> strays;
                for (const auto& file : fs::directory_iterator(version.path(), ec)) {
                    if (!referenced_files.count(dir + "/" + file.path().filename().string())) {
                        strays.push_back(file.path());
                    }
                }
                for (const auto& stray : strays) {
                    fs::remove_all(stray, ec);
                    out.problems.push_back("removed unreferenced " + stray.string());
                }
            }
            if (fs::is_empty(dist.path(), ec)) fs::remove(dist.path(), ec);
        }
    }
    return out;
}

}  // namespace lucid::host::install
