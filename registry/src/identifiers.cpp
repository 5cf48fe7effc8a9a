#include "lucid/registry/identifiers.hpp"

namespace lucid::registry {
namespace {

constexpr std::size_t kMaxLength = 64;
// Echoing an arbitrarily long hostile value back into a result would let a client inflate
// every error message; beyond this we show a prefix and say how long it was.
constexpr std::size_t kMaxEchoed = 128;

bool is_lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

}  // namespace

bool is_valid_identifier(std::string_view value) {
    if (value.empty() || value.size() > kMaxLength || !is_lower_alnum(value.front())) {
        return false;
    }
    for (char c : value) {
        if (!is_lower_alnum(c) && c != '_' && c != '-') return false;
    }
    return true;
}

std::optional<std::string> identifier_error(std::string_view field, std::string_view value) {
    if (is_valid_identifier(value)) return std::nullopt;
    std::string shown(value.substr(0, kMaxEchoed));
    if (value.size() > kMaxEchoed) shown += "...(" + std::to_string(value.size()) + " bytes)";
    return "validation_error: " + std::string(field) + " '" + shown +
           "' is invalid; allowed: [a-z0-9][a-z0-9_-]{0,63}";
}

}  // namespace lucid::registry
