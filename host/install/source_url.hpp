// Install source URLs (http, https, file) parsed and normalised with curl's URL API (CURLU),
// and the allowed-prefix check of LUCID_ALLOWED_SOURCE_PREFIXES built on them.
//
// Why not compare strings: curl removes dot-segments before it sends a request, a server
// decodes `%2e%2e` and removes them again, and `http://localhost@127.0.0.1/` goes to 127.0.0.1.
// A URL is under a prefix when, both normalised:
//   - scheme, host (case-insensitive) and port (the scheme's default when absent) are equal;
//   - the URL carries userinfo only when the prefix carries the same (never on its own);
//   - the path is the prefix's path or continues it at a segment boundary (`/good` and
//     `/good/` both allow `/good/x`, neither allows `/goodies/x`);
//   - http(s): the path holds no encoded separator (`%2F`, `%5C`), backslash or `%00`, which a
//     server might decode into a new path segment after the check;
//   - file: both paths are resolved (realpath, symlinks followed) before they are compared.
// Normalising a path: percent-escapes of unreserved characters are decoded (`%2e` → `.`), the
// others upper-cased, then curl removes the dot-segments. The normalised URL is what the agent
// requests, so what was checked is what is fetched.
//
// Redaction: a source URL is shown (results, logs, registry, core/components) with its whole
// userinfo, its query and its fragment replaced by `***`: `https://***@host/x.so?***`. A user
// name may be a token (`https://TOKEN@github.com/...`), a query may be a signature
// (`?X-Amz-Signature=...`).
//
// Pure but for the file:// realpath; thread-safe.
//
//   url_under_prefixes("http://h/good/../evil/x.so", {"http://h/good/"})  // false
//   redact_source_url("https://tok@h/x.so?sig=1")                        //
//   "https://***@h/x.so?***"
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/expected.hpp"

namespace lucid::host::install {

struct SourceUrl {
    std::string url;     // normalised, as requested (userinfo and query kept)
    std::string scheme;  // "http", "https" or "file"
    bool has_userinfo = false;
    std::string user;       // as written (percent-encoded), when has_userinfo
    std::string password;   // as written, when has_userinfo; "" when none
    std::string host;       // lowercase; "" for file
    long port = 0;          // explicit or the scheme's default; 0 for file
    std::string path;       // normalised, still percent-encoded
    std::string file_path;  // file: the path percent-decoded (never holds a NUL byte)
};

struct ParsedSourceUrl {
    std::optional<SourceUrl> url;
    std::string error;  // when !url: why, never the URL itself (it may hold a secret)
};

// An absolute http://, https:// or file:// URL (scheme case-insensitive). A file URL names a
// local path (`file:///p` or `file://localhost/p`).
ParsedSourceUrl parse_source_url(std::string_view text);

// The URL with every userinfo, query and fragment replaced by `***`; "(invalid URL)" for text
// that does not parse as a source URL.
std::string redact_source_url(std::string_view text);

// The file name `url` designates: the last segment of its path, percent-decoded; "" when the
// path ends with `/` or the segment decodes to something holding a NUL or a `/`.
std::string url_file_name(const SourceUrl& url);

// True when `url` is under one of `prefixes` (see the rules above), or there are none. A URL or
// prefix that does not parse matches nothing.
bool url_under_prefixes(std::string_view url, const std::vector<std::string>& prefixes);

// For a file already opened: true when `real_path` (the opened file's own path, from
// /proc/self/fd) is under one of the file:// `prefixes`, or there are none.
bool file_under_prefixes(const std::filesystem::path& real_path,
                         const std::vector<std::string>& prefixes);

// Why `prefix` cannot be an allowed source prefix (not a source URL, or with a query or a
// fragment), or nullopt when it can: "must not have a query or a fragment" (without the prefix,
// which may hold a password). For the configuration's validation.
Status source_prefix_problem(std::string_view prefix);

}  // namespace lucid::host::install
