// How a value a client sent is quoted back in an error message (contract §2.4).
//
// The client chooses the value: quoting it whole would let one command inflate its result, and
// the agent's log line, to megabytes. Up to kMaxEchoedBytes bytes are kept, cut back to a UTF-8
// character boundary, then `...(<n> bytes)` gives the full size:
//
//   echoed_value(std::string(1 << 20, 'a'))  // "aaa…a...(1048576 bytes)", 128 'a'
//
// Control characters are kept: the JSON writer escapes them. Pure; thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace lucid::registry {

inline constexpr std::size_t kMaxEchoedBytes = 128;

std::string echoed_value(std::string_view value);

}  // namespace lucid::registry
