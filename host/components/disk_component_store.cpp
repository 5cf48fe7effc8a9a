#include "components/disk_component_store.hpp"

#include "common/atomic_file.hpp"
#include "common/file_modes.hpp"
#include "common/logging.hpp"
#include "components/component_channel.hpp"
#include "lucid/registry/dist_name.hpp"
#include "lucid/registry/identifiers.hpp"
#include "lucid/registry/registry_json.hpp"

namespace lucid::host::components {
namespace fs = std::filesystem;

namespace {

const char* const kLegacyQuarantineError =
    "quarantined: the agent stopped while this component was starting; enable or re-install it "
    "to try again";

// A marker file of the crash-safety bookkeeping. Atomic: a marker cut short by a kill would
// name no file. Not fatal when the disk refuses (full, read-only): the operation it guards is
// not worth failing, only its attribution after a crash is lost.
void write_marker(const fs::path& marker, const std::string& content) {
    try {
        make_directories(marker.parent_path());
        write_file_atomically(marker, content, real_file_ops(), kDataFileMode);
    } catch (const std::exception& e) {
        logger("components")->warn("cannot write {}: {}", marker.string(), e.what());
    }
}

// The markers of a directory by component id (temporaries of interrupted writes, whose names
// are no identifiers, are left to ComponentFiles::recover).
std::map<std::string, std::string> markers_in(const fs::path& dir) {
    std::map<std::string, std::string> out;
    std::error_code ec;
    for (const auto& file : fs::directory_iterator(dir, ec)) {
        const std::string id = file.path().filename().string();
        if (registry::is_valid_identifier(id)) out[id] = read_file(file.path());
    }
    return out;
}

void remove_file(const fs::path& file) {
    std::error_code ec;
    fs::remove(file, ec);
}

}  // namespace

DiskComponentStore::DiskComponentStore(fs::path data_dir, std::vector<fs::path> legacy_registries)
    : data_dir_(std::move(data_dir)),
      registry_(data_dir_, std::move(legacy_registries)),
      files_(data_dir_) {}

fs::path DiskComponentStore::marker(const char* kind, const std::string& component_id) const {
    return data_dir_ / kind / component_id;
}

ComponentStore::Loaded DiskComponentStore::load() {
    auto report = registry_.load();
    Loaded loaded;
    loaded.problems = report.problems;
    // The files of interrupted installs stay until the lifecycle has read why (blame_deaths).
    std::vector<std::string> pending;
    for (const auto& [id, text] : markers_in(data_dir_ / "installing")) {
        const auto install = parse_pending_install(text);
        if (!install || install->entry_json.empty()) continue;
        try {
            pending.push_back(registry::entry_from_json(id, install->entry_json).path);
        } catch (const std::invalid_argument&) {  // read again, and reported, by read_deaths()
        }
    }
    auto recovery = files_.recover(report.registry, report.moved_aside.has_value(), pending);
    loaded.problems.insert(loaded.problems.end(), recovery.problems.begin(),
                           recovery.problems.end());
    loaded.registry = std::move(recovery.registry);
    loaded.changed = recovery.registry_changed;
    return loaded;
}

Status DiskComponentStore::save(const registry::Registry& registry) {
    try {
        registry_.save(registry);
        return done();
    } catch (const std::exception& e) {
        return Error{Errc::io, e.what()};
    }
}

Expected<registry::Registry> DiskComponentStore::update_config(const std::string& component_id,
                                                               const std::string& config_json) {
    try {
        return registry_.update([&](registry::Registry& r) {
            if (const auto* entry = r.find(component_id)) {
                registry::Entry changed = *entry;
                changed.config_json = config_json;
                r.put(changed);
            }
        });
    } catch (const std::exception& e) {
        return Error{Errc::io, e.what()};
    }
}

Expected<ComponentStore::Placed> DiskComponentStore::place(const fs::path& staged,
                                                           const std::string& dist,
                                                           const std::string& version,
                                                           const std::string& file_name,
                                                           const std::string& sha256) {
    try {
        const auto placed = files_.place(staged, dist, version, file_name, sha256);
        return Placed{placed.path, placed.created};
    } catch (const std::exception& e) {
        files_.discard({}, dist, version);  // a directory created before the move failed
        return Error{Errc::io, e.what()};
    }
}

void DiskComponentStore::discard(const Placed& placed, const std::string& dist,
                                 const std::string& version) {
    files_.discard({placed.path, placed.created}, dist, version);
}

void DiskComponentStore::remove_version(const std::string& dist, const std::string& version) {
    files_.remove_version(dist, version);
}

void DiskComponentStore::mark_starting(const std::string& component_id, const StartMarker& start) {
    write_marker(marker("starting", component_id), to_json(start));
}

void DiskComponentStore::clear_starting(const std::string& component_id) {
    remove_file(marker("starting", component_id));
}

void DiskComponentStore::mark_installing(const std::string& component_id,
                                         const PendingInstall& pending) {
    write_marker(marker("installing", component_id), to_json(pending));
}

void DiskComponentStore::clear_installing(const std::string& component_id) {
    remove_file(marker("installing", component_id));
}

std::optional<Quarantine> DiskComponentStore::quarantine(const std::string& component_id) {
    const fs::path file = marker("quarantine", component_id);
    std::error_code ec;
    if (!fs::exists(file, ec)) return std::nullopt;
    return parse_quarantine(read_file(file), kLegacyQuarantineError);
}

std::map<std::string, Quarantine> DiskComponentStore::quarantines() {
    std::map<std::string, Quarantine> out;
    for (const auto& [id, text] : markers_in(data_dir_ / "quarantine")) {
        if (auto q = parse_quarantine(text, kLegacyQuarantineError)) out[id] = std::move(*q);
    }
    return out;
}

void DiskComponentStore::set_quarantine(const std::string& component_id, const Quarantine& q) {
    write_marker(marker("quarantine", component_id), to_json(q));
}

void DiskComponentStore::lift_quarantine(const std::string& component_id) {
    remove_file(marker("quarantine", component_id));
}

ComponentStore::DeathEvidence DiskComponentStore::read_deaths() {
    DeathEvidence evidence;
    const fs::path crash_file = crash::record_path(data_dir_);
    std::error_code ec;
    if (fs::exists(crash_file, ec)) {
        evidence_.push_back(crash_file);
        evidence.crash = crash::read_crash_record(crash_file);
        if (!evidence.crash) {
            evidence.problems.push_back("ignoring " + crash_file.string() +
                                        ": not a whole crash record");
        }
    }
    for (const auto& [id, text] : markers_in(data_dir_ / "starting")) {
        evidence_.push_back(marker("starting", id));
        evidence.starting[id] = parse_start_marker(text);
    }
    for (const auto& [id, text] : markers_in(data_dir_ / "installing")) {
        evidence_.push_back(marker("installing", id));
        if (auto pending = parse_pending_install(text)) evidence.installing[id] = *pending;
    }
    return evidence;
}

void DiskComponentStore::consume_deaths() {
    for (const auto& file : evidence_) remove_file(file);
    evidence_.clear();
}

dropin::FileVersion DiskComponentStore::file_version(const fs::path& file) {
    return dropin::file_version(file);
}

std::vector<fs::path> DiskComponentStore::files_of_dist(const fs::path& dir,
                                                        const std::string& dist) {
    std::vector<fs::path> out;
    std::error_code ec;
    for (const auto& file : fs::directory_iterator(dir, ec)) {
        const std::string name = file.path().filename().string();
        if (name.empty() || name[0] == '.' || file.path().extension() != ".so") continue;
        try {
            if (registry::parse_artifact_name(name).dist_name == dist) out.push_back(file.path());
        } catch (const std::invalid_argument&) {
            // Not an artifact name: the drop-in directory never loads it either.
        }
    }
    return out;
}

Status DiskComponentStore::set_aside(const fs::path& file, const std::string& suffix) {
    return move_dropin_aside(file, suffix);
}

}  // namespace lucid::host::components
