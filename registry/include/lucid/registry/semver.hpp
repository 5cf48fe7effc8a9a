// Semantic versions (https://semver.org, 2.0.0): parse and precedence.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lucid::registry {

struct Version {
    unsigned long major = 0;
    unsigned long minor = 0;
    unsigned long patch = 0;
    std::vector<std::string> pre_release;  // dot-separated identifiers, empty for a release
    std::string build;                     // ignored for precedence

    // Parses `1.2.3`, `1.2.3-rc.1`, `1.2.3+build.5`, `1.2.3-beta+exp.sha.5114f85`.
    // Returns nullopt for anything else (leading zeros, empty identifiers, missing parts).
    static std::optional<Version> parse(std::string_view text);

    std::string to_string() const;
};

// Semver precedence: <0, 0, >0. Build metadata does not count, so 1.0.0+a == 1.0.0+b.
int compare(const Version& a, const Version& b);

inline bool operator<(const Version& a, const Version& b) { return compare(a, b) < 0; }
inline bool operator>(const Version& a, const Version& b) { return compare(a, b) > 0; }
inline bool operator==(const Version& a, const Version& b) { return compare(a, b) == 0; }
inline bool operator!=(const Version& a, const Version& b) { return compare(a, b) != 0; }

}  // namespace lucid::registry
