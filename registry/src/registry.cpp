#include "lucid/registry/registry.hpp"

#include <stdexcept>

#include "lucid/registry/identifiers.hpp"

namespace lucid::registry {

bool Entry::operator==(const Entry& o) const {
    return component_id == o.component_id && dist_name == o.dist_name && version == o.version &&
           sha256 == o.sha256 && path == o.path && source_json == o.source_json &&
           enabled == o.enabled && config_json == o.config_json && installed_at == o.installed_at &&
           previous == o.previous && kind == o.kind && legacy_json == o.legacy_json &&
           isolation == o.isolation && limits == o.limits && run_as == o.run_as &&
           signed_by == o.signed_by && demoted == o.demoted;
}

const char* to_string(EntryKind kind) {
    return kind == EntryKind::native ? "native" : "python_wheel";
}

const Entry* Registry::find(std::string_view component_id) const {
    auto it = entries_.find(component_id);
    return it == entries_.end() ? nullptr : &it->second;
}

const Entry* Registry::find_by_dist(std::string_view dist_name) const {
    if (dist_name.empty()) return nullptr;
    for (const auto& [id, entry] : entries_) {
        if (entry.dist_name == dist_name) return &entry;
    }
    return nullptr;
}

void Registry::put(Entry entry) {
    if (auto error = identifier_error("component_id", entry.component_id)) {
        throw std::invalid_argument(*error);
    }
    if (const Entry* owner = find_by_dist(entry.dist_name);
        owner && owner->component_id != entry.component_id) {
        throw std::invalid_argument("dist_name '" + entry.dist_name +
                                    "' is already installed as component '" + owner->component_id +
                                    "'");
    }
    const std::string id = entry.component_id;
    entries_.insert_or_assign(id, std::move(entry));
}

bool Registry::erase(std::string_view component_id) {
    auto it = entries_.find(component_id);
    if (it == entries_.end()) return false;
    entries_.erase(it);
    return true;
}

}  // namespace lucid::registry
