// The lifecycle's store on the data directory: registry.json (RegistryStore, migrating the
// earlier agent's registries), the component files (install::ComponentFiles) and the marker
// files of crash_records.hpp, each written atomically.
//
// Thread: as ComponentStore (lifecycle_ports.hpp). Errors: I/O failures of the registry and the
// files are returned (Errc::io, naming the step and the path); a marker the disk refuses is
// logged and skipped.
#pragma once

#include <filesystem>
#include <vector>

#include "components/lifecycle_ports.hpp"
#include "install/component_files.hpp"
#include "lucid/registry/registry_store.hpp"

namespace lucid::host::components {

class DiskComponentStore final : public ComponentStore {
  public:
    DiskComponentStore(std::filesystem::path data_dir,
                       std::vector<std::filesystem::path> legacy_registries);

    Loaded load() override;
    Status save(const registry::Registry& registry) override;
    Expected<registry::Registry> update_config(const std::string& component_id,
                                               const std::string& config_json) override;

    Expected<Placed> place(const std::filesystem::path& staged, const std::string& dist,
                           const std::string& version, const std::string& file_name,
                           const std::string& sha256) override;
    void discard(const Placed& placed, const std::string& dist,
                 const std::string& version) override;
    void remove_version(const std::string& dist, const std::string& version) override;

    void mark_starting(const std::string& component_id, const StartMarker& marker) override;
    void clear_starting(const std::string& component_id) override;
    void mark_installing(const std::string& component_id, const PendingInstall& pending) override;
    void clear_installing(const std::string& component_id) override;
    std::optional<Quarantine> quarantine(const std::string& component_id) override;
    std::map<std::string, Quarantine> quarantines() override;
    void set_quarantine(const std::string& component_id, const Quarantine& q) override;
    void lift_quarantine(const std::string& component_id) override;

    DeathEvidence read_deaths() override;
    void consume_deaths() override;

    dropin::FileVersion file_version(const std::filesystem::path& file) override;
    Status set_aside(const std::filesystem::path& file, const std::string& suffix) override;
    std::vector<std::filesystem::path> files_of_dist(const std::filesystem::path& dir,
                                                     const std::string& dist) override;

    install::ComponentFiles& files() { return files_; }

  private:
    std::filesystem::path marker(const char* kind, const std::string& component_id) const;

    const std::filesystem::path data_dir_;
    registry::RegistryStore registry_;
    install::ComponentFiles files_;
    std::vector<std::filesystem::path> evidence_;  // read by read_deaths(), removed by consume
};

}  // namespace lucid::host::components
