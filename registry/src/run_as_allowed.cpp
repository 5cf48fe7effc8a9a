#include "lucid/registry/run_as_allowed.hpp"

#include <algorithm>

#include "lucid/registry/echoed_value.hpp"

namespace lucid::registry {
namespace {

std::string_view trimmed(std::string_view s) {
    while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
    while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
    return s;
}

// Splits on `separator`, keeping empty pieces (an empty name is an error, not skipped).
std::vector<std::string_view> split_trimmed(std::string_view text, char separator) {
    std::vector<std::string_view> out;
    for (;;) {
        const auto at = text.find(separator);
        out.push_back(trimmed(text.substr(0, at)));
        if (at == std::string_view::npos) return out;
        text.remove_prefix(at + 1);
    }
}

bool name_char(char c, bool first) {
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    return alnum || c == '_' || (!first && (c == '.' || c == '-'));
}

}  // namespace

std::optional<std::string> account_name_error(std::string_view field, std::string_view name) {
    bool ok = !name.empty() && name.size() <= 32 && name_char(name.front(), true);
    for (char c : name) ok = ok && name_char(c, false);
    ok = ok && !std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (ok) return std::nullopt;
    return "'" + std::string(field) + "' '" + echoed_value(name) +
           "' is not a user or group name ([A-Za-z0-9_][A-Za-z0-9_.-]{0,31}, not all digits)";
}

std::optional<std::string> parse_run_as_allowed(std::string_view text, RunAsAllowed& out) {
    RunAsAllowed parsed;
    if (trimmed(text).empty()) {
        out = parsed;
        return std::nullopt;
    }
    const auto entries = split_trimmed(text, ',');
    for (std::size_t i = 0; i < entries.size(); ++i) {
        const std::string where =
            "entry " + std::to_string(i + 1) + " '" + echoed_value(entries[i]) + "': ";
        const auto names = split_trimmed(entries[i], ':');
        if (names.front().empty()) return where + "empty user name";
        if (auto bad = account_name_error("user", names.front())) return where + *bad;
        const std::string user(names.front());
        if (parsed.users.count(user)) return where + user + " is listed twice";
        std::vector<std::string> groups;
        for (std::size_t g = 1; g < names.size(); ++g) {
            if (names[g].empty()) return where + "empty group name";
            if (auto bad = account_name_error("group", names[g])) return where + *bad;
            groups.emplace_back(names[g]);
        }
        parsed.users[user] = std::move(groups);
    }
    out = std::move(parsed);
    return std::nullopt;
}

std::string run_as_allowed_text(const RunAsAllowed& allowed) {
    std::string text;
    for (const auto& [user, groups] : allowed.users) {
        text += (text.empty() ? "" : ",") + user;
        for (const auto& g : groups) text += ":" + g;
    }
    return text.empty() ? "(none)" : text;
}

std::optional<std::string> run_as_refusal(const RunAsAllowed& allowed, const RunAs& run_as) {
    if (run_as.empty()) return std::nullopt;
    const std::string setting(kRunAsAllowedVariable);
    const auto it = allowed.users.find(run_as.user);
    if (it == allowed.users.end()) {
        return "run_as not allowed: " + run_as.user + " (not in " + setting + ")";
    }
    for (const auto& group : run_as.groups) {
        if (std::find(it->second.begin(), it->second.end(), group) == it->second.end()) {
            return "run_as not allowed: group " + group + " for " + run_as.user + " (not in " +
                   setting + ")";
        }
    }
    return std::nullopt;
}

}  // namespace lucid::registry
