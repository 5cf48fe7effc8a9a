#include "lucid/registry/identifiers.hpp"

#include "lucid/registry/echoed_value.hpp"

namespace lucid::registry {
namespace {

constexpr std::size_t kMaxLength = 64;

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
    return "validation_error: " + std::string(field) + " '" + echoed_value(value) +
           "' is invalid; allowed: [a-z0-9][a-z0-9_-]{0,63}";
}

}  // namespace lucid::registry
