// Strict base64 (RFC 4648, standard alphabet, padding required) for inline install sources and
// signatures. Strict on purpose: a payload that is not exactly base64 is refused, not repaired.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace lucid::host::install {

// Decoded bytes, or nullopt when `text` is not valid padded base64.
std::optional<std::string> base64_decode(std::string_view text);

std::string base64_encode(std::string_view bytes);

}  // namespace lucid::host::install
