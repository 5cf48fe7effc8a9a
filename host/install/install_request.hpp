// Validation of an `install` command payload (SPEC §4) into an InstallRequest. Pure.
//
//   {"request_id", "component_id", "source": {...}, "version"?, "config"?}
//
// Every source carries a mandatory `sha256`. The artifact's file name (URL basename, release
// asset, inline filename) must parse as `<dist>-<version>[-<tag>].so`; it is the only name the
// file ever gets on disk, and a path in it (`../x.so`, `a/b.so`) is refused rather than stripped.
// Errors are `validation_error: ...` strings for the result topic.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <rapidjson/document.h>

#include "lucid/registry/dist_name.hpp"

namespace lucid::host::install {

struct InstallSettings {
    std::string github_base = "https://github.com";
    std::vector<std::string> allowed_url_prefixes;  // empty: every http(s)/file URL allowed
    std::size_t inline_max_bytes = 8u << 20;        // decoded size cap of inline sources
};

enum class SourceType { url, github_release, inline_data };

struct InstallSource {
    SourceType type = SourceType::url;
    std::string url;                       // url and github_release: what to download
    std::string inline_data;               // inline: the decoded bytes
    std::string file_name;                 // the artifact's file name (basename only)
    std::string sha256;                    // lowercase hex
    std::optional<std::string> signature;  // base64 Ed25519 signature, when given
    std::string json;  // the source object as stored in the registry (no inline data)
};

struct InstallRequest {
    std::string component_id;
    InstallSource source;
    registry::ArtifactName artifact;     // parsed from source.file_name
    std::optional<std::string> version;  // payload's version, when given
    std::optional<std::string> config_json;
};

struct ParsedInstall {
    std::optional<InstallRequest> request;
    std::string error;
};

ParsedInstall parse_install_request(const rapidjson::Value& payload,
                                    const InstallSettings& settings);

// The artifact file name a URL designates: its path's last segment, without query or fragment.
std::string url_file_name(const std::string& url);

}  // namespace lucid::host::install
