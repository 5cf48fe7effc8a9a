#include "lucid/registry/semver.hpp"

#include <cctype>

namespace lucid::registry {
namespace {

bool all_digits(std::string_view s) {
    if (s.empty()) return false;
    for (char c : s) {
        if (!std::isdigit(static_cast<unsigned char>(c))) return false;
    }
    return true;
}

bool is_identifier_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-'; }

// A numeric core part: digits, no leading zero, fits in unsigned long.
std::optional<unsigned long> parse_number(std::string_view s) {
    if (!all_digits(s) || (s.size() > 1 && s[0] == '0') || s.size() > 18) return std::nullopt;
    unsigned long value = 0;
    for (char c : s) value = value * 10 + static_cast<unsigned long>(c - '0');
    return value;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
    std::vector<std::string_view> parts;
    std::size_t start = 0;
    while (true) {
        auto pos = s.find(sep, start);
        parts.push_back(s.substr(start, pos - start));
        if (pos == std::string_view::npos) return parts;
        start = pos + 1;
    }
}

bool valid_identifiers(const std::vector<std::string_view>& ids, bool numeric_no_leading_zero) {
    for (auto id : ids) {
        if (id.empty()) return false;
        for (char c : id) {
            if (!is_identifier_char(c)) return false;
        }
        if (numeric_no_leading_zero && all_digits(id) && id.size() > 1 && id[0] == '0') {
            return false;
        }
    }
    return true;
}

int compare_identifier(const std::string& a, const std::string& b) {
    const bool a_num = all_digits(a), b_num = all_digits(b);
    if (a_num && b_num) {
        if (a.size() != b.size()) return a.size() < b.size() ? -1 : 1;
        return a.compare(b) < 0 ? -1 : (a == b ? 0 : 1);
    }
    if (a_num != b_num) return a_num ? -1 : 1;  // numeric identifiers sort first
    return a.compare(b) < 0 ? -1 : (a == b ? 0 : 1);
}

}  // namespace

std::optional<Version> Version::parse(std::string_view text) {
    Version v;
    if (auto plus = text.find('+'); plus != std::string_view::npos) {
        auto build = text.substr(plus + 1);
        if (!valid_identifiers(split(build, '.'), false)) return std::nullopt;
        v.build = std::string(build);
        text = text.substr(0, plus);
    }
    if (auto dash = text.find('-'); dash != std::string_view::npos) {
        auto ids = split(text.substr(dash + 1), '.');
        if (!valid_identifiers(ids, true)) return std::nullopt;
        for (auto id : ids) v.pre_release.emplace_back(id);
        text = text.substr(0, dash);
    }
    auto core = split(text, '.');
    if (core.size() != 3) return std::nullopt;
    auto major = parse_number(core[0]), minor = parse_number(core[1]),
         patch = parse_number(core[2]);
    if (!major || !minor || !patch) return std::nullopt;
    v.major = *major;
    v.minor = *minor;
    v.patch = *patch;
    return v;
}

std::string Version::to_string() const {
    std::string s =
        std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch);
    for (std::size_t i = 0; i < pre_release.size(); ++i) s += (i == 0 ? "-" : ".") + pre_release[i];
    if (!build.empty()) s += "+" + build;
    return s;
}

int compare(const Version& a, const Version& b) {
    if (a.major != b.major) return a.major < b.major ? -1 : 1;
    if (a.minor != b.minor) return a.minor < b.minor ? -1 : 1;
    if (a.patch != b.patch) return a.patch < b.patch ? -1 : 1;
    // A release outranks any of its pre-releases.
    if (a.pre_release.empty() || b.pre_release.empty()) {
        if (a.pre_release.empty() && b.pre_release.empty()) return 0;
        return a.pre_release.empty() ? 1 : -1;
    }
    for (std::size_t i = 0; i < a.pre_release.size() && i < b.pre_release.size(); ++i) {
        if (int c = compare_identifier(a.pre_release[i], b.pre_release[i]); c != 0) return c;
    }
    if (a.pre_release.size() == b.pre_release.size()) return 0;
    return a.pre_release.size() < b.pre_release.size() ? -1 : 1;
}

}  // namespace lucid::registry
