#include "agent/component_snapshots.hpp"

#include "agent/host_facts.hpp"
#include "common/logging.hpp"
#include "lucid/registry/registry_store.hpp"

namespace lucid::host::agent {

std::vector<contract::ComponentSnapshot> snapshots_from_registry(
    const registry::Registry& registry) {
    std::vector<contract::ComponentSnapshot> out;
    out.reserve(registry.size());
    for (const auto& [id, entry] : registry.entries()) {
        const bool wheel = entry.kind == registry::EntryKind::python_wheel;
        out.push_back(contract::ComponentSnapshot{entry, wheel ? "unsupported" : "unknown", ""});
    }
    return out;
}

std::vector<contract::ComponentSnapshot> load_registry_snapshots(
    const std::filesystem::path& data_dir) {
    try {
        const registry::RegistryStore store(
            data_dir,
            registry::legacy_registry_candidates(data_dir, getenv_string("LUCID_LEGACY_REGISTRY")));
        auto report = store.load();
        for (const auto& problem : report.problems) logger("agent")->warn("registry: {}", problem);
        return snapshots_from_registry(report.registry);
    } catch (const std::exception& e) {
        logger("agent")->error("cannot read the registry: {}", e.what());
        return {};
    }
}

}  // namespace lucid::host::agent
