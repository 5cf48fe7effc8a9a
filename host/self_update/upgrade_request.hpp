// Validation of a `core/cmd/upgrade` payload (contract §4.16) into an UpgradeRequest. Pure.
//
//   {"request_id", "version", "source": {...}, "expires_at"?}
//
// `source` is an install's (contract §4.1, install/install_request.hpp: url, github_release,
// inline; a mandatory sha256, an optional signature), parsed by the same code. A broker source
// is refused: the agent fetches broker artifacts only for components so far. Errors are
// `validation_error: ...` strings for the result topic.
#pragma once

#include <optional>
#include <string>

#include <rapidjson/document.h>

#include "install/install_request.hpp"

namespace lucid::host::self_update {

struct UpgradeRequest {
    std::string version;  // a semantic version: the build must say it (`--version`)
    install::InstallSource source;
};

struct ParsedUpgrade {
    std::optional<UpgradeRequest> request;
    std::string error;
};

// Errors:
//   validation_error: missing field 'version'
//   validation_error: 'version' must be a semantic version (like 1.4.0)
//   validation_error: missing field 'source'
//   validation_error: 'source.type' broker is not supported by upgrade: use url, github_release
//     or inline
//   and every error of an install's source (contract §4.1).
ParsedUpgrade parse_upgrade_request(const rapidjson::Value& payload,
                                    const install::InstallSettings& settings);

}  // namespace lucid::host::self_update
