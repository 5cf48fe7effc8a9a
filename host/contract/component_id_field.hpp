// Reading `component_id` from a command payload (install, uninstall, start, stop, restart,
// enable, disable), with one error per kind of mistake so every command answers alike:
//
//   absent            validation_error: missing field 'component_id'
//   not a string      validation_error: 'component_id' must be a string
//   not an id (§2),   validation_error: component_id '<value>' is invalid; allowed: [a-z0-9]...
//   "" included       (contract §2.1's message; <value> quoted as contract §2.4 says)
//
// A result echoes the `component_id` it was sent even when it is refused (contract §3.4): `echo` is
// the id, or an invalid string cut by registry::echoed_value; absent or not a string: none.
//
// Pure; thread-safe.
#pragma once

#include <optional>
#include <string>

#include <rapidjson/document.h>

namespace lucid::host::contract {

struct ComponentIdField {
    std::string id;                   // valid when ok()
    std::string error;                // the result's error otherwise
    std::optional<std::string> echo;  // what the result's `component_id` says; null when none

    bool ok() const { return error.empty(); }
};

ComponentIdField read_component_id(const rapidjson::Value& payload);

}  // namespace lucid::host::contract
