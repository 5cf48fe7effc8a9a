// Validation of a `core/cmd/upgrade` payload (contract §4.16) into an UpgradeRequest. Pure.
//
//   {"request_id", "version", "source": {...}, "expires_at"?}
//
// `source` is an install's (contract §4.1, install/install_request.hpp: url, github_release,
// inline, broker; a mandatory sha256, an optional signature), parsed by the same code. Errors
// are `validation_error: ...` strings for the result topic.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

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
//   and every error of an install's source (contract §4.1).
ParsedUpgrade parse_upgrade_request(const rapidjson::Value& payload,
                                    const install::InstallSettings& settings);

// The request id an update asked by desired-state revision `revision` is placed under
// ("desired revision 7", contract §4.11): state.json keeps it, so that the build running next
// knows how that revision's update ended. Its final result goes to core/deployment, not to
// core/evt/upgrade_result, and a command may not use such an id.
std::string desired_upgrade_id(std::uint64_t revision);
bool is_desired_upgrade_id(std::string_view request_id);

}  // namespace lucid::host::self_update
