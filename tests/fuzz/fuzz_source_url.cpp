// Install source URLs: normalisation, redaction and the allowed-prefix match
// (install/source_url.hpp). The input is `<prefix>\n<url>`; without a newline, the URL alone.
//
// What must hold for any input:
//   - parsing says either a URL or why not, never both;
//   - normalising is complete and stable: no `.`/`..` segment and no escaped unreserved
//     character survives, and the normalised URL parses back to the same parts;
//   - a redacted URL parses back with no password, `***` as its user and query;
//   - a URL matched under a prefix has the prefix's scheme, host, port and userinfo, and its
//     path continues the prefix's path at a segment boundary;
//   - the artifact file name of a URL is never a path.
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "install/curl_library.hpp"
#include "install/source_url.hpp"

namespace {

using lucid::host::install::SourceUrl;

void check(bool condition) {
    if (!condition) __builtin_trap();
}

bool has_dot_segment(const std::string& path) {
    for (std::size_t start = 0; start <= path.size();) {
        std::size_t end = path.find('/', start);
        if (end == std::string::npos) end = path.size();
        const std::string_view segment(path.data() + start, end - start);
        if (segment == "." || segment == "..") return true;
        start = end + 1;
    }
    return false;
}

bool has_escaped_unreserved(const std::string& path) {
    for (std::size_t i = 0; i + 2 < path.size(); ++i) {
        if (path[i] != '%') continue;
        const std::string hex = path.substr(i + 1, 2);
        const int byte = static_cast<int>(std::strtol(hex.c_str(), nullptr, 16));
        if (std::isalnum(byte) || byte == '-' || byte == '.' || byte == '_' || byte == '~') {
            return true;
        }
    }
    return false;
}

bool same_parts(const SourceUrl& a, const SourceUrl& b) {
    return a.scheme == b.scheme && a.host == b.host && a.port == b.port && a.path == b.path &&
           a.has_userinfo == b.has_userinfo && a.user == b.user && a.password == b.password &&
           a.file_path == b.file_path;
}

void check_url(std::string_view text) {
    using namespace lucid::host::install;
    const auto parsed = parse_source_url(text);
    check(parsed.url.has_value() == parsed.error.empty());
    if (!parsed.url) return;
    const SourceUrl& url = *parsed.url;
    check(!has_dot_segment(url.path));
    check(!has_escaped_unreserved(url.path));
    const auto again = parse_source_url(url.url);
    check(again.url.has_value() && same_parts(*again.url, url));

    const std::string name = url_file_name(url);
    check(name.find('/') == std::string::npos && name.find('\0') == std::string::npos);

    const std::string shown = redact_source_url(text);
    if (shown != "(invalid URL)") {
        const auto redacted = parse_source_url(shown);
        if (redacted.url) {
            check(redacted.url->password.empty());
            check(!redacted.url->has_userinfo || redacted.url->user == "***");
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace lucid::host::install;
    // libcurl held for the whole run: each parse would otherwise load and unload it.
    static const auto curl = CurlLease::acquire();
    check(curl.ok());
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const auto newline = input.find('\n');
    if (newline == std::string_view::npos) {
        check_url(input);
        return 0;
    }
    const std::string prefix(input.substr(0, newline));
    const std::string_view text = input.substr(newline + 1);
    check_url(prefix);
    check_url(text);
    if (!url_under_prefixes(text, {prefix})) return 0;
    const auto url = parse_source_url(text).url;
    const auto base = parse_source_url(prefix).url;
    check(url && base);
    check(url->scheme == base->scheme && url->host == base->host && url->port == base->port);
    check(url->has_userinfo == base->has_userinfo && url->user == base->user &&
          url->password == base->password);
    if (url->scheme != "file") {
        const std::string& p = base->path;
        check(url->path.compare(0, p.size(), p) == 0);
        check(p.back() == '/' || url->path.size() == p.size() || url->path[p.size()] == '/');
    }
    return 0;
}
