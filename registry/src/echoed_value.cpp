#include "lucid/registry/echoed_value.hpp"

namespace lucid::registry {

std::string echoed_value(std::string_view value) {
    if (value.size() <= kMaxEchoedBytes) return std::string(value);
    std::size_t cut = kMaxEchoedBytes;
    // Never end inside a character: back up over continuation bytes (10xxxxxx) to the byte that
    // starts the character the limit falls in. At most three, whatever the text holds.
    const auto continuation = [&](std::size_t i) {
        return (static_cast<unsigned char>(value[i]) & 0xC0) == 0x80;
    };
    for (int steps = 0; steps < 3 && cut > 0 && continuation(cut); ++steps) --cut;
    return std::string(value.substr(0, cut)) + "...(" + std::to_string(value.size()) + " bytes)";
}

}  // namespace lucid::registry
