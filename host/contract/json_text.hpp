// JSON text from the network, parsed strictly: bounded depth (registry::kMaxJsonDepth), no NUL
// byte (the parser would stop there and the plugin ABI hands payloads over as C strings), valid
// UTF-8 (whatever is read may be echoed into a result, which must stay valid JSON), nothing after
// the value. Used by every parser of a payload (commands, the desired state).
//
//   rapidjson::Document doc;
//   if (Status parsed = parse_json_text(text, doc); !parsed) fail(parsed.error().message);
//
// Thread: pure functions. Errors: Status with the text "invalid JSON: ..."; nothing throws.
#pragma once

#include <optional>
#include <string_view>

#include <rapidjson/document.h>

#include "common/expected.hpp"

namespace lucid::host::contract {

// Errors: invalid JSON: nested deeper than 64 levels | invalid JSON: NUL byte at offset N |
// invalid JSON: <the parser's message> at offset N. On error `doc` is null.
Status parse_json_text(std::string_view text, rapidjson::Document& doc);

// The first key that appears twice in one object, anywhere in `value`. The parser keeps both
// members and lookups find the first, while other readers (a redaction, a copy to the registry,
// a plugin's own parser) may see the second: a payload must say one thing. Depth is bounded by
// parse_json_text.
std::optional<std::string_view> duplicate_key(const rapidjson::Value& value);

}  // namespace lucid::host::contract
