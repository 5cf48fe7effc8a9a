#include "install/source_url.hpp"

#include <cerrno>
#include <cstdlib>
#include <memory>

#include "install/curl_library.hpp"
#include "mqtt/mqtt_url.hpp"

namespace lucid::host::install {
namespace {

// One CURLU of the loaded libcurl (install/curl_library.hpp); the lease outlives it.
class UrlHandle {
  public:
    explicit UrlHandle(const CurlLease& curl) : curl_(curl), url_(curl->url()) {}
    ~UrlHandle() {
        if (url_) curl_->url_cleanup(url_);
    }
    UrlHandle(const UrlHandle&) = delete;
    UrlHandle& operator=(const UrlHandle&) = delete;
    explicit operator bool() const { return url_ != nullptr; }
    CURLUcode set(CURLUPart which, const char* text, unsigned flags = 0) {
        return curl_->url_set(url_, which, text, flags);
    }
    // One part of the URL; nullopt when it has no such part (or on any other error).
    std::optional<std::string> part(CURLUPart which, unsigned flags = 0) const {
        std::string out;
        if (get(which, out, flags) != CURLUE_OK) return std::nullopt;
        return out;
    }
    CURLUcode get(CURLUPart which, std::string& out, unsigned flags = 0) const {
        char* text = nullptr;
        const CURLUcode rc = curl_->url_get(url_, which, &text, flags);
        if (rc == CURLUE_OK && !text) return CURLUE_OUT_OF_MEMORY;
        if (rc != CURLUE_OK) return rc;
        out = text;
        curl_->free(text);
        return rc;
    }
    std::string error(CURLUcode rc) const {
        return std::string("is not a valid URL: ") + curl_->url_strerror(rc);
    }

  private:
    const CurlLease& curl_;
    CURLU* url_;
};

bool starts_with_ci(std::string_view text, std::string_view prefix) {
    if (text.size() < prefix.size()) return false;
    for (std::size_t i = 0; i < prefix.size(); ++i) {
        const char c = text[i] >= 'A' && text[i] <= 'Z' ? static_cast<char>(text[i] + 32) : text[i];
        if (c != prefix[i]) return false;
    }
    return true;
}

std::string lowercase_ascii(std::string text) {
    for (char& c : text) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
    }
    return text;
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

bool is_unreserved(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

// RFC 3986 §6.2.2: escapes of unreserved characters decoded (`%2e` is `.`, and a server treats
// it so), the others upper-cased so that equal paths compare equal. nullopt on a broken escape.
std::optional<std::string> normalise_escapes(std::string_view path) {
    static const char* hex = "0123456789ABCDEF";
    std::string out;
    out.reserve(path.size());
    for (std::size_t i = 0; i < path.size(); ++i) {
        if (path[i] != '%') {
            out.push_back(path[i]);
            continue;
        }
        if (i + 2 >= path.size()) return std::nullopt;
        const int hi = hex_value(path[i + 1]);
        const int lo = hex_value(path[i + 2]);
        if (hi < 0 || lo < 0) return std::nullopt;
        const auto byte = static_cast<unsigned char>(hi * 16 + lo);
        if (is_unreserved(byte)) {
            out.push_back(static_cast<char>(byte));
        } else {
            out += {'%', hex[hi], hex[lo]};
        }
        i += 2;
    }
    return out;
}

// A path a server could still split differently than we did: an encoded `/` or `\`, a raw `\`,
// an encoded NUL, or a dot-segment hidden behind path parameters (`..;x`, which Tomcat-style
// servers resolve). Escapes are upper-case after normalise_escapes.
bool has_ambiguous_separator(const std::string& path) {
    if (path.find('\\') != std::string::npos || path.find("%2F") != std::string::npos ||
        path.find("%5C") != std::string::npos || path.find("%00") != std::string::npos) {
        return true;
    }
    for (std::size_t start = 0; start < path.size();) {
        const std::size_t end = std::min(path.find('/', start), path.size());
        const std::string_view segment(path.data() + start, end - start);
        const std::string_view bare = segment.substr(0, segment.find(';'));
        if (bare.size() != segment.size() && (bare == "." || bare == "..")) return true;
        start = end + 1;
    }
    return false;
}

// `path` is `prefix` or continues it at a segment boundary.
bool path_under(const std::string& path, const std::string& prefix) {
    if (!prefix.empty() && prefix.back() == '/') return path.compare(0, prefix.size(), prefix) == 0;
    return path == prefix ||
           (path.size() > prefix.size() && path.compare(0, prefix.size(), prefix) == 0 &&
            path[prefix.size()] == '/');
}

std::optional<std::string> real_path(const std::string& path) {
    std::unique_ptr<char, decltype(&std::free)> resolved(::realpath(path.c_str(), nullptr),
                                                         &std::free);
    if (!resolved) return std::nullopt;
    return std::string(resolved.get());
}

// Where a file:// URL leads once every symlink is followed. A file that does not exist yet is
// resolved through its directory, so that the error is the download's "No such file".
std::optional<std::string> resolve_file(const std::string& path) {
    if (auto resolved = real_path(path)) return resolved;
    if (errno != ENOENT) return std::nullopt;
    const std::filesystem::path p(path);
    const std::string name = p.filename().string();
    if (name.empty() || name == "." || name == "..") return std::nullopt;
    auto parent = real_path(p.parent_path().string());
    if (!parent) return std::nullopt;
    return (*parent == "/" ? "" : *parent) + "/" + name;
}

// A file:// prefix resolved: "/" or a path without a trailing slash, compared by path_under
// (a directory prefix allows what is inside it, a file prefix that file).
std::optional<std::string> resolve_prefix_dir(const SourceUrl& prefix) {
    auto resolved = real_path(prefix.file_path);
    if (!resolved) return std::nullopt;
    if (resolved->back() != '/' && prefix.file_path.back() == '/') *resolved += '/';
    return resolved;
}

std::optional<SourceUrl> parse_prefix(std::string_view text) {
    if (!source_prefix_problem(text)) return std::nullopt;
    return parse_source_url(text).url;
}

bool under_prefix(const SourceUrl& url, const SourceUrl& prefix) {
    if (url.scheme != prefix.scheme || url.host != prefix.host || url.port != prefix.port) {
        return false;
    }
    // userinfo is allowed only when the prefix has exactly the same: `http://localhost@evil/`
    // must not pass for `http://localhost`.
    if (url.has_userinfo != prefix.has_userinfo) return false;
    if (url.has_userinfo && (url.user != prefix.user || url.password != prefix.password)) {
        return false;
    }
    if (url.scheme == "file") {
        const auto file = resolve_file(url.file_path);
        const auto dir = resolve_prefix_dir(prefix);
        return file && dir && path_under(*file, *dir);
    }
    return !has_ambiguous_separator(url.path) && path_under(url.path, prefix.path);
}

}  // namespace

ParsedSourceUrl parse_source_url(std::string_view text) {
    ParsedSourceUrl out;
    auto fail = [&](std::string error) {
        out.error = std::move(error);
        return out;
    };
    if (!starts_with_ci(text, "http://") && !starts_with_ci(text, "https://") &&
        !starts_with_ci(text, "file:///")) {
        return fail("must start with https://, http:// or file:///");
    }
    if (text.find('\0') != std::string_view::npos) return fail("contains a NUL byte");
    const std::string input(text);
    const Expected<CurlLease> curl = CurlLease::acquire();
    if (!curl) return fail("cannot be parsed: " + curl.error().message);
    UrlHandle first(curl.value());
    UrlHandle second(curl.value());
    if (!first || !second) return fail("cannot be parsed: out of memory");
    if (auto rc = first.set(CURLUPART_URL, input.c_str()); rc != CURLUE_OK) {
        return fail(first.error(rc));
    }
    // A file path has no query or fragment (a `?` in a file name is written `%3F`). curl would
    // drop them silently, and rebuilding such a URL came out as "file://(nil)" (fuzz_source_url).
    if (starts_with_ci(text, "file:") &&
        (first.part(CURLUPART_QUERY).has_value() || first.part(CURLUPART_FRAGMENT).has_value())) {
        return fail("is not a valid URL: a file:// URL has no query or fragment");
    }
    // The path normalised, then the URL parsed again: curl removes the dot-segments that
    // decoding `%2e` revealed.
    const auto raw_path = first.part(CURLUPART_PATH);
    const auto path = normalise_escapes(raw_path.value_or("/"));
    if (!path) return fail("is not a valid URL: bad percent-escape in the path");
    if (auto rc = first.set(CURLUPART_PATH, path->c_str()); rc != CURLUE_OK) {
        return fail(first.error(rc));
    }
    // curl 7.88 writes `file:///` back as "file://(nil)": a file URL is rebuilt from its path.
    const bool file = starts_with_ci(text, "file:");
    const auto rebuilt =
        file ? std::optional<std::string>("file://" + *path) : first.part(CURLUPART_URL);
    if (!rebuilt) return fail("cannot be parsed");
    if (auto rc = second.set(CURLUPART_URL, rebuilt->c_str()); rc != CURLUE_OK) {
        return fail(second.error(rc));
    }
    const UrlHandle& url = second;
    SourceUrl result;
    result.url = file ? "file://" + url.part(CURLUPART_PATH).value_or("/")
                      : url.part(CURLUPART_URL).value_or("");
    result.scheme = lowercase_ascii(url.part(CURLUPART_SCHEME).value_or(""));
    if (result.scheme != "http" && result.scheme != "https" && result.scheme != "file") {
        return fail("must start with https://, http:// or file:///");
    }
    if (auto user = url.part(CURLUPART_USER)) {
        result.has_userinfo = true;
        result.user = std::move(*user);
    }
    if (auto password = url.part(CURLUPART_PASSWORD)) {
        result.has_userinfo = true;
        result.password = std::move(*password);
    }
    // Escapes upper-cased once more: curl writes the ones it keeps in lower case.
    result.path = normalise_escapes(url.part(CURLUPART_PATH).value_or("/")).value_or("/");
    if (result.scheme == "file") {
        // CURLU_URLDECODE refuses an escape that decodes to a control character (NUL included).
        if (auto rc = url.get(CURLUPART_PATH, result.file_path, CURLU_URLDECODE); rc != CURLUE_OK) {
            return fail(url.error(rc));
        }
        if (result.file_path.empty() || result.file_path.front() != '/') {
            return fail("is not a valid URL: a file:// URL needs an absolute path");
        }
    } else {
        result.host = lowercase_ascii(url.part(CURLUPART_HOST).value_or(""));
        const auto port = url.part(CURLUPART_PORT, CURLU_DEFAULT_PORT);
        result.port = port ? std::strtol(port->c_str(), nullptr, 10) : 0;
        if (result.host.empty()) return fail("is not a valid URL: no host");
    }
    out.url = std::move(result);
    return out;
}

std::string redact_source_url(std::string_view text) {
    const std::string input(text.substr(0, text.find('\0')));
    // Nothing of the URL is shown when it cannot be parsed, not even for want of libcurl.
    const Expected<CurlLease> curl = CurlLease::acquire();
    if (!curl) return "(URL not shown: " + curl.error().message + ")";
    UrlHandle url(curl.value());
    // Any scheme: a redirect to ftp:// is shown redacted too.
    if (!url || url.set(CURLUPART_URL, input.c_str(), CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK) {
        return "(invalid URL)";
    }
    if (url.part(CURLUPART_USER) || url.part(CURLUPART_PASSWORD)) {
        url.set(CURLUPART_PASSWORD, nullptr);
        url.set(CURLUPART_OPTIONS, nullptr);
        url.set(CURLUPART_USER, "***");
    }
    // A file URL has no userinfo, and curl 7.88 writes `file:///` back as "file://(nil)".
    if (lowercase_ascii(url.part(CURLUPART_SCHEME).value_or("")) == "file") {
        return "file://" + url.part(CURLUPART_PATH).value_or("/") +
               (url.part(CURLUPART_QUERY) ? "?***" : "") +
               (url.part(CURLUPART_FRAGMENT) ? "#***" : "");
    }
    if (url.part(CURLUPART_QUERY)) url.set(CURLUPART_QUERY, "***");
    if (url.part(CURLUPART_FRAGMENT)) url.set(CURLUPART_FRAGMENT, "***");
    return url.part(CURLUPART_URL).value_or("(invalid URL)");
}

std::string url_file_name(const SourceUrl& url) {
    const std::string segment = url.path.substr(url.path.rfind('/') + 1);
    auto decoded = mqtt::percent_decode(segment);
    if (!decoded || decoded->find('/') != std::string::npos ||
        decoded->find('\0') != std::string::npos) {
        return {};
    }
    return *decoded;
}

bool url_under_prefixes(std::string_view url, const std::vector<std::string>& prefixes) {
    if (prefixes.empty()) return true;
    // One load of libcurl for the URL and every prefix (each parse would otherwise load it).
    const Expected<CurlLease> curl = CurlLease::acquire();
    const auto parsed = parse_source_url(url);
    if (!parsed.url) return false;
    for (const auto& text : prefixes) {
        const auto prefix = parse_prefix(text);
        if (prefix && under_prefix(*parsed.url, *prefix)) return true;
    }
    return false;
}

bool file_under_prefixes(const std::filesystem::path& real_path,
                         const std::vector<std::string>& prefixes) {
    if (prefixes.empty()) return true;
    const Expected<CurlLease> curl = CurlLease::acquire();  // one load for every prefix
    for (const auto& text : prefixes) {
        const auto prefix = parse_prefix(text);
        if (!prefix || prefix->scheme != "file") continue;
        const auto dir = resolve_prefix_dir(*prefix);
        if (dir && path_under(real_path.string(), *dir)) return true;
    }
    return false;
}

Status source_prefix_problem(std::string_view prefix) {
    const auto parsed = parse_source_url(prefix);
    if (!parsed.url) return Error{Errc::invalid, parsed.error};
    const Expected<CurlLease> curl = CurlLease::acquire();  // parse_source_url just had it
    if (!curl) return Error{Errc::refused, curl.error().message};
    UrlHandle url(curl.value());
    const std::string input(prefix);
    if (url && url.set(CURLUPART_URL, input.c_str()) == CURLUE_OK &&
        (url.part(CURLUPART_QUERY) || url.part(CURLUPART_FRAGMENT))) {
        return Error{Errc::invalid, std::string("must not have a query or a fragment")};
    }
    return done();
}

}  // namespace lucid::host::install
