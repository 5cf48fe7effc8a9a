// The `core/components` entries as seen from the registry alone, before (or without) plugin
// hosting: every entry with state `unknown` (native) or `unsupported` (earlier agent's Python
// wheels, which this host cannot run). Plugin hosting replaces this source with one that knows
// the live states (SnapshotPublisher::set_component_source).
// Thread: safe (each call reads the file under the registry's lock). Errors: problems are
// logged and yield an empty list; never thrown.
#pragma once

#include <filesystem>
#include <vector>

#include "contract/payloads.hpp"
#include "lucid/registry/registry.hpp"

namespace lucid::host::agent {

std::vector<contract::ComponentSnapshot> snapshots_from_registry(
    const registry::Registry& registry);

std::vector<contract::ComponentSnapshot> load_registry_snapshots(
    const std::filesystem::path& data_dir);

}  // namespace lucid::host::agent
