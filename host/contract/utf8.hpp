// UTF-8 checks for text that goes into JSON payloads.
//
// JSON text is UTF-8 (RFC 8259). The RapidJSON writer copies string bytes as they are, so a
// string holding invalid UTF-8 (a value cut in the middle of a character, a plugin's error text)
// would make the whole payload unreadable for strict consumers. Pure; thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace lucid::host::contract {

// True when `text` is well-formed UTF-8: no stray continuation bytes, no truncated sequences,
// no overlong forms, no surrogates (U+D800..U+DFFF), nothing above U+10FFFF.
bool is_valid_utf8(std::string_view text);

// `text` with every byte that does not belong to a well-formed sequence replaced by U+FFFD.
// Bytes below 0x80 are never touched, so a JSON text stays a JSON text.
std::string to_valid_utf8(std::string_view text);

}  // namespace lucid::host::contract
