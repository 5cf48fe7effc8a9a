// Migration of registries written by the earlier Python agent (contract §6).
//
// Those files are a flat JSON object keyed by component_id, without a `format` number. Their
// entries come in four shapes, one per era of the earlier agent:
//
//   v0.1  repo, version, wheel_url, entrypoint, installed_at
//   v1.0  + sha256, source {type, owner, repo, tag, asset}
//   v0.9  + dist_name                    (the contract v1.0.0 era, despite the number)
//   v1.1  + enabled, config
//
// Each step below is a pure function that lifts an entry by one era; `migrate_legacy_entry`
// runs the ones an entry needs and converts the result to a format-1 Entry. Every legacy entry is
// a Python wheel, which this host cannot run: it is kept (kind python_wheel, listed as
// `unsupported`) so that it can be uninstalled, and its original JSON is kept in `legacy`.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <rapidjson/document.h>

#include "lucid/registry/entry.hpp"
#include "lucid/registry/registry.hpp"

namespace lucid::registry {

struct LegacySource {
    std::string type, owner, repo, tag, asset;
    std::string url;  // for a plain `url` source, or the wheel_url a release was recovered from
};

struct LegacyEntry {
    std::string component_id;
    std::string repo, version, wheel_url, entrypoint, installed_at;
    std::optional<std::string> sha256;
    std::optional<LegacySource> source;
    std::optional<std::string> dist_name;  // stays unset when nothing names the artifact
    std::optional<bool> enabled;
    std::optional<std::string> config_json;
    std::string original_json;  // the entry exactly as found, serialized
};

enum class LegacyShape { v0_1, v1_0, v0_9, v1_1 };

// Reads one entry of a legacy file; throws std::invalid_argument when it is not an object or a
// field has the wrong type (a wrong-shape entry is reported by the caller, never guessed at).
LegacyEntry read_legacy_entry(std::string_view component_id, const rapidjson::Value& value);

// The era an entry was written in, judged by the fields it has.
LegacyShape detect_shape(const LegacyEntry& entry);

// v0.1 → v1.0: no checksum was ever recorded (sha256 stays empty: unknown); the source is
// recovered from a GitHub release wheel_url (`https://github.com/{owner}/{repo}/releases/
// download/{tag}/{asset}`), else recorded as a plain `url` source.
LegacyEntry add_checksum_and_source(LegacyEntry entry);

// v1.0 → v0.9: dist_name from source.asset, else from wheel_url's basename, else unknown.
LegacyEntry add_dist_name(LegacyEntry entry);

// v0.9 → v1.1: the earlier agent treated a missing `enabled` as enabled and `config` as {}.
LegacyEntry add_enabled_and_config(LegacyEntry entry);

// v1.1 → the registry entry of format 1.
Entry to_registry_entry(const LegacyEntry& entry);

// Runs the steps the entry's shape needs, then converts it.
Entry migrate_legacy_entry(LegacyEntry entry);

struct LegacyMigration {
    Registry registry;
    std::vector<std::string> problems;  // wrong-shape entries, reported and left out
};

// Migrates a whole legacy document (a flat object keyed by component_id).
LegacyMigration migrate_legacy_registry(const rapidjson::Value& document);

}  // namespace lucid::registry
