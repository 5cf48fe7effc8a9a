// The in-memory registry: installed components keyed by component_id, with dist_name unique.
// No I/O here; registry_store.hpp reads and writes it.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "lucid/registry/entry.hpp"

namespace lucid::registry {

class Registry {
  public:
    const Entry* find(std::string_view component_id) const;
    // Entries whose dist_name is unknown (empty) are never found by dist.
    const Entry* find_by_dist(std::string_view dist_name) const;

    // Inserts or replaces the entry of `entry.component_id`. Throws std::invalid_argument when the
    // component_id is invalid or the dist_name already belongs to another component.
    void put(Entry entry);
    // Returns whether an entry was removed.
    bool erase(std::string_view component_id);

    const std::map<std::string, Entry, std::less<>>& entries() const { return entries_; }
    std::size_t size() const { return entries_.size(); }
    bool empty() const { return entries_.empty(); }

    bool operator==(const Registry& o) const { return entries_ == o.entries_; }

  private:
    std::map<std::string, Entry, std::less<>> entries_;
};

}  // namespace lucid::registry
