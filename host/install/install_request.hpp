// Validation of an `install` command payload (contract §4.1) into an InstallRequest. Pure.
//
//   {"request_id", "component_id", "source": {...}, "version"?, "config"?, "allow_downgrade"?,
//    "rollback_permit"?}
//
// Every source carries a mandatory `sha256`. The artifact's file name (a url source's
// `filename` or its URL's last segment, the release asset, the inline filename) must parse as
// `<dist>-<version>[-<tag>].so`; it is the only name the file ever gets on disk, and a path in
// it (`../x.so`, `a/b.so`) is refused rather than stripped. An http(s) URL whose last segment
// does not end in `.so` (a download link: `/releases/latest`, `/download?id=7`) names its
// artifact after the download, by the redirects it took (artifact_name_from_urls).
// URLs are parsed, normalised and checked against the allowed prefixes by
// install/source_url.hpp. Errors are `validation_error: ...` strings for the result topic.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <rapidjson/document.h>

#include "lucid/registry/dist_name.hpp"
#include "lucid/registry/entry.hpp"

namespace lucid::host::install {

struct InstallSettings {
    std::string github_base = "https://github.com";
    std::vector<std::string> allowed_url_prefixes;  // empty: every http(s)/file URL allowed
    std::size_t inline_max_bytes = 8u << 20;        // decoded size cap of inline sources
    // Where broker sources may point: `{fleet root}/artifacts/` (contract §4.1).
    std::string artifacts_prefix = "lucid/artifacts/";
};

enum class SourceType { url, github_release, inline_data, broker };

struct InstallSource {
    SourceType type = SourceType::url;
    std::string url;    // url and github_release: what to download (normalised)
    std::string topic;  // broker: the retained message that holds the artifact
    // inline: the decoded bytes; broker: the bytes once fetched (the caller reads the topic)
    std::string inline_data;
    std::string file_name;  // the artifact's file name; "" until the download names it
    std::string sha256;     // lowercase hex
    std::optional<std::string> signature;  // base64 Ed25519 signature, when given
    // The source object as the registry stores it: no inline data, URLs redacted
    // (redact_source_url).
    std::string json;
};

struct InstallRequest {
    std::string component_id;
    InstallSource source;
    // Parsed from source.file_name; empty while the download has still to name the artifact.
    std::optional<registry::ArtifactName> artifact;
    std::optional<std::string> version;  // payload's version, when given
    std::optional<std::string> config_json;
    // README "Process isolation": "in_process" or "process" (none: the installed one's, or the
    // agent's default), and the limits of a child process.
    std::optional<std::string> isolation;
    std::optional<registry::Limits> limits;
    // The user (and extra groups) of the child; {} the agent's user; none: the installed one's.
    std::optional<registry::RunAs> run_as;
    // `allow_downgrade: true`: may go below the dist's floor (install/trust_state.hpp).
    bool allow_downgrade = false;
    // The text of a lucid-permit-1 rollback permit (install/rollback_permit.hpp), unchecked.
    std::optional<std::string> rollback_permit;
};

struct ParsedInstall {
    std::optional<InstallRequest> request;
    std::string error;
};

ParsedInstall parse_install_request(const rapidjson::Value& payload,
                                    const InstallSettings& settings);

struct ParsedSource {
    std::optional<InstallSource> source;
    std::string error;  // `validation_error: ...`
};

// A `source` object alone, with the same types, checks and errors as an install's (the agent's
// own upgrade takes it, contract §4.16). An http(s) URL whose last segment does not end in
// `.so` leaves `file_name` empty.
ParsedSource parse_install_source(const rapidjson::Value& source, const InstallSettings& settings);

struct ArtifactFileName {
    std::string file_name;
    registry::ArtifactName artifact;
    std::string error;  // `validation_error: ...` when no URL named a usable artifact
};

// For a url source whose URL did not name its artifact: the first of `urls` (the requested URL,
// then each redirect followed, as download_to_file returns them) whose last segment ends in
// `.so`, checked like every artifact name and against the payload's `version` when given.
ArtifactFileName artifact_name_from_urls(const std::vector<std::string>& urls,
                                         const std::optional<std::string>& version);

}  // namespace lucid::host::install
