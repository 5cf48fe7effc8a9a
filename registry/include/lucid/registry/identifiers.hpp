// Validation of agent and component identifiers (contract §2.1).
//
// An identifier is `^[a-z0-9][a-z0-9_-]{0,63}$`. It becomes part of MQTT topics and of
// file-system paths, so anything else (slashes, dots, wildcards, NUL bytes) is refused.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace lucid::registry {

// True when `value` is a valid agent_id / component_id.
bool is_valid_identifier(std::string_view value);

// The exact contract error for an invalid identifier, or nullopt when it is valid:
//   validation_error: component_id 'Bad/Id' is invalid; allowed: [a-z0-9][a-z0-9_-]{0,63}
std::optional<std::string> identifier_error(std::string_view field, std::string_view value);

}  // namespace lucid::registry
