// Parsing of a command payload (contract §3.5): a JSON object with a non-empty string `request_id`.
//
// Whatever a client sends yields either a request or an error that the agent publishes on the
// command's result topic: `invalid JSON: ...` for unparsable text (including text that is not
// UTF-8, holds a raw NUL byte or nests deeper than registry::kMaxJsonDepth), `validation_error:
// ...` for a non-object, a missing/invalid request_id (a non-empty string of at most
// kMaxRequestIdLength bytes of valid UTF-8 without control characters: `request_id is not valid
// UTF-8` for an escaped lone surrogate), or a key that appears twice in one object anywhere in
// the payload (`duplicate key '<k>'`, the key cut like every echoed value). `request_id` is ""
// when none could be read, or when the payload holds two. Pure; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <rapidjson/document.h>

#include "contract/timestamp.hpp"

namespace lucid::host::contract {

inline constexpr std::size_t kMaxRequestIdLength = 256;

struct CommandRequest {
    rapidjson::Document payload;  // the whole object when ok()
    std::string request_id;       // "" when none could be read
    std::string error;            // empty when the payload is a usable command
    // `expires_at`, when the command gives one: after it the command is answered
    // `expired: <expires_text>` instead of run.
    std::optional<Clock::time_point> expires_at;
    std::string expires_text;

    bool ok() const { return error.empty(); }
};

CommandRequest parse_command(std::string_view payload);

// The error a command refused without running (busy, not running, the agent stopping) is
// answered with: `error`, or for a malformed payload its parse error, which is what the sender
// has to fix first.
std::string refusal_error(std::string_view payload, const std::string& error);

// The request_id of a result this agent built (to record it for de-duplication); "" when it has
// none. A result is not a command: a plugin's result may nest whatever JSON the plugin wrote.
std::string result_request_id(std::string_view payload);

}  // namespace lucid::host::contract
