#include "lucid/registry/dist_name.hpp"

#include <cctype>

namespace lucid::registry {
namespace {

bool is_separator(char c) { return c == '-' || c == '_' || c == '.'; }

std::string_view basename_of(std::string_view path) {
    // URLs may carry a query or fragment; neither is part of the file name.
    auto end = path.find_first_of("?#");
    if (end != std::string_view::npos && path.find("://") != std::string_view::npos) {
        path = path.substr(0, end);
    }
    auto slash = path.find_last_of('/');
    return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

// Platform tags as Python wheels and our own build spell them: linux_x86_64, manylinux...,
// musllinux..., any.
bool is_platform_tag(std::string_view segment) {
    for (std::string_view prefix : {"linux", "manylinux", "musllinux", "any"}) {
        if (segment.substr(0, prefix.size()) == prefix) return true;
    }
    return false;
}

bool ends_with(std::string_view s, std::string_view suffix) {
    return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

std::string normalize_dist_name(std::string_view name) {
    std::string out;
    out.reserve(name.size());
    bool in_separator_run = false;
    for (char c : name) {
        if (is_separator(c)) {
            if (!in_separator_run) out += '-';
            in_separator_run = true;
        } else {
            out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            in_separator_run = false;
        }
    }
    return out;
}

ArtifactName parse_artifact_name(std::string_view path) {
    const std::string_view base = basename_of(path);
    const std::string shown(base);
    if (!ends_with(base, ".so")) {
        throw std::invalid_argument("artifact file name '" + shown +
                                    "' must end in .so (<dist>-<version>[-<platform>].so)");
    }
    const std::string_view stem = base.substr(0, base.size() - 3);
    // The version starts at the first '-' followed by a digit: a dist part may itself hold
    // dashes (`LUCID--Agent__CPU-2.0.0.so`), a version never starts with anything else.
    std::size_t split = std::string_view::npos;
    for (std::size_t i = 0; i + 1 < stem.size(); ++i) {
        if (stem[i] == '-' && std::isdigit(static_cast<unsigned char>(stem[i + 1]))) {
            split = i;
            break;
        }
    }
    if (split == std::string_view::npos || split == 0) {
        throw std::invalid_argument("artifact file name '" + shown +
                                    "' has no version (<dist>-<version>[-<platform>].so)");
    }
    ArtifactName name;
    name.dist_name = normalize_dist_name(stem.substr(0, split));
    std::string_view rest = stem.substr(split + 1);
    // A semver pre-release also uses '-' (`1.0.0-rc.1`), so the trailing segment is a platform
    // tag only when it names a platform.
    const auto last_dash = rest.rfind('-');
    if (last_dash != std::string_view::npos && is_platform_tag(rest.substr(last_dash + 1))) {
        name.platform_tag = std::string(rest.substr(last_dash + 1));
        rest = rest.substr(0, last_dash);
    }
    name.version = std::string(rest);
    if (name.dist_name.empty() || name.dist_name == "-") {
        throw std::invalid_argument("artifact file name '" + shown + "' has no dist name");
    }
    return name;
}

std::optional<std::string> dist_name_from_wheel(std::string_view path_or_url) {
    const std::string_view base = basename_of(path_or_url);
    const auto dash = base.find('-');
    if (dash == std::string_view::npos || dash == 0) return std::nullopt;
    return normalize_dist_name(base.substr(0, dash));
}

std::string artifact_file_name(std::string_view dist_name, std::string_view version,
                               std::string_view platform_tag) {
    std::string file;
    for (char c : dist_name) file += (c == '-') ? '_' : c;
    file += '-';
    file += version;
    if (!platform_tag.empty()) {
        file += '-';
        file += platform_tag;
    }
    return file + ".so";
}

}  // namespace lucid::registry
