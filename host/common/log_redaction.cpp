#include "common/log_redaction.hpp"

#include <cctype>

namespace lucid::host {
namespace {

constexpr std::string_view kMask = "***";

bool scheme_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '+' || c == '-' || c == '.';
}

// Where a URL written in prose ends.
bool ends_url(char c) {
    return std::isspace(static_cast<unsigned char>(c)) != 0 || c == '"' || c == '\'' || c == '<' ||
           c == '>' || c == '`';
}

bool word_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_'; }

// Whether `secret` at `at` in `text` stands as a word of its own: not inside a longer word.
bool whole_word(const std::string& text, std::size_t at, std::size_t size) {
    return (at == 0 || !word_char(text[at - 1])) &&
           (at + size == text.size() || !word_char(text[at + size]));
}

std::string replace_secrets(std::string_view text, const std::vector<std::string>& secrets) {
    std::string out(text);
    for (const auto& secret : secrets) {
        if (secret.empty()) continue;
        // A password of one or two characters is still a password: it is masked where it stands
        // as a word of its own (`u:ab@host`, `password ab`), not inside every longer word that
        // happens to hold it, which would mask half of every line.
        const bool short_secret = secret.size() < 3;
        for (auto at = out.find(secret); at != std::string::npos;) {
            if (short_secret && !whole_word(out, at, secret.size())) {
                at = out.find(secret, at + 1);
                continue;
            }
            out.replace(at, secret.size(), kMask);
            at = out.find(secret, at + kMask.size());
        }
    }
    return out;
}

// The URL whose "://" is at `sep` (scheme from `start`), redacted into `out`; returns where the
// URL ends.
std::size_t redact_url_at(std::string_view text, std::size_t sep, std::string& out) {
    const std::size_t n = text.size();
    std::size_t end = sep + 3;
    while (end < n && !ends_url(text[end])) ++end;
    const std::string_view url = text.substr(sep + 3, end - sep - 3);
    // The userinfo ends at the last '@' before the query or fragment: a raw '/' in a password
    // must not hide it.
    const std::size_t tail = url.find_first_of("?#");
    const std::size_t at = url.substr(0, tail).rfind('@');
    std::size_t rest = 0;
    if (at != std::string_view::npos) {
        const std::string_view userinfo = url.substr(0, at);
        const std::size_t colon = userinfo.find(':');
        const bool agent_form = colon != std::string_view::npos &&
                                userinfo.substr(colon + 1) == kMask &&
                                userinfo.substr(0, colon).find('/') == std::string_view::npos;
        out.append(agent_form ? userinfo : kMask);
        rest = at;
    }
    if (tail == std::string_view::npos || tail < rest) {
        out.append(url.substr(rest));
        return end;
    }
    out.append(url.substr(rest, tail - rest));
    const std::string_view after = url.substr(tail);
    if (after.front() == '?') {
        out.append("?").append(kMask);
        if (after.find('#') != std::string_view::npos) out.append("#").append(kMask);
    } else {
        out.append("#").append(kMask);
    }
    return end;
}

std::string redact_urls(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    std::size_t done = 0;
    for (std::size_t sep = text.find("://"); sep != std::string_view::npos;
         sep = text.find("://", done)) {
        std::size_t start = sep;
        while (start > done && scheme_char(text[start - 1])) --start;
        out.append(text.substr(done, sep + 3 - done));
        if (start == sep) {  // no scheme: not a URL
            done = sep + 3;
            continue;
        }
        done = redact_url_at(text, sep, out);
    }
    out.append(text.substr(done));
    return out;
}

bool ascii_iequal(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (std::tolower(static_cast<unsigned char>(a[i])) !=
            std::tolower(static_cast<unsigned char>(b[i]))) {
            return false;
        }
    }
    return true;
}

// `password=value`, `"password": "value"`, `passwd: value`: the value becomes ***.
std::string redact_password_values(std::string_view text) {
    std::string out;
    std::size_t i = 0;
    const std::size_t n = text.size();
    while (i < n) {
        std::size_t word = std::string_view::npos;
        std::size_t length = 0;
        for (std::string_view key : {std::string_view("password"), std::string_view("passwd")}) {
            if (i + key.size() <= n && ascii_iequal(text.substr(i, key.size()), key)) {
                word = i;
                length = key.size();
                break;
            }
        }
        if (word == std::string_view::npos) {
            out.push_back(text[i++]);
            continue;
        }
        std::size_t j = word + length;
        if (j < n && text[j] == '"') ++j;
        while (j < n && text[j] == ' ') ++j;
        if (j >= n || (text[j] != '=' && text[j] != ':')) {
            out.append(text.substr(word, length));
            i = word + length;
            continue;
        }
        ++j;
        while (j < n && text[j] == ' ') ++j;
        const bool quoted = j < n && text[j] == '"';
        if (quoted) ++j;
        out.append(text.substr(word, j - word));
        std::size_t v = j;
        while (v < n && !(quoted ? text[v] == '"'
                                 : (ends_url(text[v]) || text[v] == ',' || text[v] == '&' ||
                                    text[v] == ';'))) {
            ++v;
        }
        if (v > j) out.append(kMask);
        i = v;
    }
    return out;
}

}  // namespace

std::string redact_log_text(std::string_view text, const std::vector<std::string>& secrets) {
    return redact_password_values(redact_urls(replace_secrets(text, secrets)));
}

std::string escape_control_characters(std::string_view text) {
    static const char hex[] = "0123456789abcdef";
    auto escaped = [](unsigned char c) {
        return std::string{'\\', 'x', hex[c >> 4], hex[c & 0xF]};
    };
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c == '\n') {
            out += "\\n";
        } else if (c == '\r') {
            out += "\\r";
        } else if (c == '\t') {
            out += "\\t";
        } else if (c < 0x20 || c == 0x7F) {
            out += escaped(c);
        } else if (c == 0xC2 && i + 1 < text.size() &&
                   static_cast<unsigned char>(text[i + 1]) >= 0x80 &&
                   static_cast<unsigned char>(text[i + 1]) <= 0x9F) {
            out += escaped(c) + escaped(static_cast<unsigned char>(text[++i]));
        } else {
            out += static_cast<char>(c);
        }
    }
    return out;
}

}  // namespace lucid::host
