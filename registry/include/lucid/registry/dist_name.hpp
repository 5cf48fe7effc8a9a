// Distribution names and artifact file names (contract §2.2).
//
// A component is identified on disk and in the registry by its PEP 503 normalized dist_name.
// Artifacts are named `<dist>-<version>[-<platform tag>].so`; Python wheels written by the
// earlier agent follow the same `<dist>-<version>-...` rule with a `.whl` suffix.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace lucid::registry {

// PEP 503: lowercase, and every run of '-', '_' or '.' becomes a single '-'.
//   normalize_dist_name("LUCID--Agent__CPU") == "lucid-agent-cpu"
std::string normalize_dist_name(std::string_view name);

struct ArtifactName {
    std::string dist_name;     // normalized
    std::string version;       // as written in the file name (not validated as semver here)
    std::string platform_tag;  // empty when absent
};

// Parses `<dist>-<version>[-<platform tag>].so`; only the basename of `path` counts.
// The version starts at the first '-' followed by a digit (dist parts may contain dashes); the
// last '-' segment is the platform tag when it starts with linux/manylinux/musllinux/any, so a
// semver pre-release (`x-1.0.0-rc.1.so`) stays part of the version.
// Throws std::invalid_argument with a message naming the file when the name has no version,
// does not end in `.so`, or has an empty dist or version part.
ArtifactName parse_artifact_name(std::string_view path);

// The normalized dist_name of a wheel file name or URL (`lucid_agent_cpu-1.0.0-py3-none-any.whl`
// or `https://.../Lucid_Component.LED_Strip-0.2.0-py3-none-any.whl`), or nullopt when the
// basename has no `-` separated dist part.
std::optional<std::string> dist_name_from_wheel(std::string_view path_or_url);

// The file name an artifact of `dist_name` and `version` gets on disk: dist with '-' replaced by
// '_' so that the first '-' still separates the version (`lucid_agent_cpu-1.0.0.so`).
std::string artifact_file_name(std::string_view dist_name, std::string_view version,
                               std::string_view platform_tag = {});

}  // namespace lucid::registry
