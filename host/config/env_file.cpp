#include "config/env_file.hpp"

#include <cctype>

namespace lucid::host::config {
namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return s;
}

bool valid_key(std::string_view key) {
    if (key.empty() || std::isdigit(static_cast<unsigned char>(key.front()))) return false;
    for (char c : key) {
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
    }
    return true;
}

EnvFileResult failure(std::size_t line, const std::string& what) {
    return EnvFileResult{{}, "line " + std::to_string(line) + ": " + what};
}

}  // namespace

EnvFileResult parse_env_file(std::string_view text) {
    EnvFileResult result;
    std::size_t line_no = 0;
    while (!text.empty()) {
        ++line_no;
        const auto eol = text.find('\n');
        auto line = trim(text.substr(0, eol));
        text = eol == std::string_view::npos ? std::string_view() : text.substr(eol + 1);
        if (line.empty() || line.front() == '#' || line.front() == ';') continue;
        if (line.substr(0, 7) == "export ") line = trim(line.substr(7));
        const auto eq = line.find('=');
        if (eq == std::string_view::npos) return failure(line_no, "expected KEY=VALUE");
        const auto key = trim(line.substr(0, eq));
        if (!valid_key(key))
            return failure(line_no, "invalid variable name '" + std::string(key) + "'");
        auto raw = trim(line.substr(eq + 1));
        std::string value;
        if (!raw.empty() && (raw.front() == '"' || raw.front() == '\'')) {
            const char quote = raw.front();
            std::size_t i = 1;
            for (; i < raw.size() && raw[i] != quote; ++i) {
                if (quote == '"' && raw[i] == '\\' && i + 1 < raw.size()) {
                    const char next = raw[++i];
                    value.push_back(next == 'n' ? '\n' : next);
                } else {
                    value.push_back(raw[i]);
                }
            }
            // After the closing quote only a comment may follow: `KEY="a b" # note`.
            const auto rest = i < raw.size() ? trim(raw.substr(i + 1)) : std::string_view();
            if (i >= raw.size()) {
                return failure(line_no, "unterminated quote in value of " + std::string(key));
            }
            if (!rest.empty() && rest.front() != '#') {
                return failure(line_no, "text after the closing quote in value of " +
                                            std::string(key) + " (quote the whole value)");
            }
        } else {
            // An unquoted value ends at a `#` that follows whitespace: `KEY=v  # why` is `v`.
            // A `#` inside a word (a URL fragment) is kept; quote a value to keep ` #` in it.
            const bool spaced =
                eq + 1 < line.size() && std::isspace(static_cast<unsigned char>(line[eq + 1]));
            if (spaced && !raw.empty() && raw.front() == '#') raw = {};  // `KEY= # unset`
            for (std::size_t i = 1; i < raw.size(); ++i) {
                if (raw[i] == '#' && std::isspace(static_cast<unsigned char>(raw[i - 1]))) {
                    raw = trim(raw.substr(0, i));
                    break;
                }
            }
            value = std::string(raw);
        }
        result.values[std::string(key)] = std::move(value);
    }
    return result;
}

}  // namespace lucid::host::config
