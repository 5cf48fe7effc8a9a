// Parsing of a command payload (SPEC §3): a JSON object with a non-empty string `request_id`.
//
// Whatever a client sends yields either a request or an error that the agent publishes on the
// command's result topic: `invalid JSON: ...` for unparsable text (including text that is not
// UTF-8, holds a raw NUL byte or nests deeper than registry::kMaxJsonDepth), `validation_error:
// ...` for a non-object or a missing/invalid request_id (a non-empty string of at most
// kMaxRequestIdLength bytes without control characters). `request_id` is "" when none could be
// read. Pure; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include <rapidjson/document.h>

namespace lucid::host::contract {

inline constexpr std::size_t kMaxRequestIdLength = 256;

struct CommandRequest {
    rapidjson::Document payload;  // the whole object when ok()
    std::string request_id;       // "" when none could be read
    std::string error;            // empty when the payload is a usable command

    bool ok() const { return error.empty(); }
};

CommandRequest parse_command(std::string_view payload);

}  // namespace lucid::host::contract
