#include "lucid/registry/registry_store.hpp"

#include <system_error>

#include "common/file_lock.hpp"
#include "common/file_modes.hpp"
#include "lucid/registry/legacy_migration.hpp"
#include "lucid/registry/registry_json.hpp"

namespace lucid::registry {
namespace fs = std::filesystem;

std::vector<fs::path> legacy_registry_candidates(const fs::path& data_dir,
                                                 const std::optional<std::string>& legacy_env) {
    return {data_dir / "components_registry.json",
            legacy_env ? fs::path(*legacy_env) : fs::path("/var/lib/lucid/components.json")};
}

RegistryStore::RegistryStore(fs::path data_dir, std::vector<fs::path> legacy_candidates,
                             const host::FileOps& ops)
    : data_dir_(std::move(data_dir)),
      path_(data_dir_ / "registry.json"),
      lock_path_(data_dir_ / "registry.lock"),
      legacy_candidates_(std::move(legacy_candidates)),
      ops_(ops) {}

LoadReport RegistryStore::load() const {
    host::make_directories(data_dir_);
    host::FileLock lock(lock_path_);
    return load_locked();
}

void RegistryStore::save(const Registry& registry) const {
    host::make_directories(data_dir_);
    host::FileLock lock(lock_path_);
    save_locked(registry);
}

Registry RegistryStore::update(const std::function<void(Registry&)>& mutate) const {
    host::make_directories(data_dir_);
    host::FileLock lock(lock_path_);
    Registry registry = load_locked().registry;
    mutate(registry);
    save_locked(registry);
    return registry;
}

void RegistryStore::save_locked(const Registry& registry) const {
    host::write_file_atomically(path_, serialize_registry(registry), ops_);
}

LoadReport RegistryStore::load_locked() const {
    // Under the lock no save is under way: a temporary is what a writer killed mid-save left.
    const auto stale = host::remove_temp_files(path_);
    LoadReport report = read_locked();
    for (const auto& file : stale) {
        report.problems.push_back("removed " + file.string() + ", left by an interrupted save");
    }
    return report;
}

LoadReport RegistryStore::read_locked() const {
    LoadReport report;
    std::error_code ec;
    if (fs::exists(path_, ec)) {
        rapidjson::Document doc;
        try {
            doc = parse_json_object(host::read_file(path_), "registry.json");
        } catch (const CorruptRegistry& e) {
            report.moved_aside = host::move_aside(path_, "corrupt");
            report.problems.push_back(std::string(e.what()) + "; moved aside to " +
                                      report.moved_aside->string() + ", starting empty");
            return report;
        }
        auto format = doc.FindMember("format");
        if (format == doc.MemberEnd()) {
            // The earlier agent wrote registry.json too: migrate it in place, keeping a backup.
            report.legacy_backup = host::copy_aside(path_, "legacy");
            report.migrated_from = path_;
            auto migration = migrate_legacy_registry(doc);
            report.registry = std::move(migration.registry);
            report.problems = std::move(migration.problems);
            report.problems.push_back("migrated legacy registry " + path_.string() +
                                      " (backup: " + report.legacy_backup->string() + ")");
            save_locked(report.registry);
            return report;
        }
        if (!format->value.IsInt() || format->value.GetInt() < 1) {
            report.moved_aside = host::move_aside(path_, "corrupt");
            report.problems.push_back("registry.json has an invalid 'format'; moved aside to " +
                                      report.moved_aside->string() + ", starting empty");
            return report;
        }
        if (format->value.GetInt() > kRegistryFormat) {
            throw UnsupportedRegistryFormat(
                "registry.json has format " + std::to_string(format->value.GetInt()) +
                ", newer than the " + std::to_string(kRegistryFormat) +
                " this agent understands; refusing to rewrite it (upgrade the agent)");
        }
        ParsedRegistry parsed;
        try {
            parsed = parse_registry(doc);
        } catch (const CorruptRegistry& e) {
            report.moved_aside = host::move_aside(path_, "corrupt");
            report.problems.push_back(std::string(e.what()) + "; moved aside to " +
                                      report.moved_aside->string() + ", starting empty");
            return report;
        }
        report.registry = std::move(parsed.registry);
        report.problems = std::move(parsed.problems);
        if (!report.problems.empty()) {
            // The next save would drop the bad entries: keep the file as it was first.
            report.rejected_copy = host::copy_aside(path_, "rejected");
            report.problems.push_back("the file as it was is kept in " +
                                      report.rejected_copy->string());
        }
        return report;
    }

    for (const fs::path& candidate : legacy_candidates_) {
        if (!fs::exists(candidate, ec)) continue;
        rapidjson::Document doc;
        try {
            doc = parse_json_object(host::read_file(candidate), candidate.string());
        } catch (const std::exception& e) {
            // Not ours to move: report it and leave the earlier agent's file where it is.
            report.problems.push_back(std::string("legacy registry not imported: ") + e.what());
            continue;
        }
        auto migration = migrate_legacy_registry(doc);
        report.registry = std::move(migration.registry);
        report.problems = std::move(migration.problems);
        report.migrated_from = candidate;
        report.problems.push_back("imported legacy registry " + candidate.string() +
                                  " (left in place)");
        save_locked(report.registry);
        return report;
    }
    return report;
}

}  // namespace lucid::registry
