// Install source URLs (install/source_url.hpp): normalisation, redaction and the allowed-prefix
// match, with every bypass the adversarial audit found (issue 14) and the cases that must pass.
#include <doctest/doctest.h>

#include <unistd.h>

#include <fstream>

#include "../support/temp_dir.hpp"
#include "install/curl_library.hpp"
#include "install/source_url.hpp"
#include "status_text.hpp"

using lucid::test::status_text;
using namespace lucid::host::install;
namespace fs = std::filesystem;

namespace {

// libcurl held for the whole file: each parse would otherwise load and unload it (the
// unloading is test_host_curl_library's).
const auto kCurlHeld = CurlLease::acquire();

struct Case {
    std::string prefix;
    std::string url;
};

}  // namespace

TEST_CASE("URLs that only look as if they were under the prefix are refused") {
    const Case refused[] = {
        // dot-segments, which curl resolves before it sends the request...
        {"http://127.0.0.1:18900/good/", "http://127.0.0.1:18900/good/../evil/x-1.0.0.so"},
        {"http://127.0.0.1:18900/good/", "http://127.0.0.1:18900/good/sub/../../evil/x.so"},
        // ...and encoded ones, which the server decodes and resolves
        {"http://127.0.0.1:18900/good/", "http://127.0.0.1:18900/good/%2e%2e/evil/x-1.0.0.so"},
        {"http://127.0.0.1:18900/good/", "http://127.0.0.1:18900/good/%2E%2E/evil/x-1.0.0.so"},
        {"http://127.0.0.1:18900/good/", "http://127.0.0.1:18900/good/.%2e/evil/x-1.0.0.so"},
        // separators a server may decode after the check
        {"http://h/good/", "http://h/good/..%2Fevil/x.so"},
        {"http://h/good/", "http://h/good/..%2fevil/x.so"},
        {"http://h/good/", "http://h/good/..%5Cevil/x.so"},
        {"http://h/good/", "http://h/good/..\\evil/x.so"},
        {"http://h/good/", "http://h/good/..;/evil/x.so"},
        {"http://h/good/", "http://h/good/x%00.so"},
        // userinfo: another host behind the prefix's host name, or credentials it lacks
        {"http://localhost", "http://localhost@127.0.0.1:18900/evil/x-1.0.0.so"},
        {"http://localhost:18900", "http://localhost:18900@127.0.0.1:18900/evil/x-1.0.0.so"},
        {"http://localhost:18900/", "http://localhost:18900@127.0.0.1:18900/evil/x-1.0.0.so"},
        {"http://h/good/", "http://user:pw@h/good/x.so"},
        {"http://h/good/", "http://@h/good/x.so"},
        {"http://u:p@h/good/", "http://u:other@h/good/x.so"},
        {"http://u:p@h/good/", "http://h/good/x.so"},
        // a longer host name, segment, port or another scheme
        {"https://a.example", "https://a.example.evil/x.so"},
        {"https://a.example/", "https://a.example.evil/x.so"},
        {"http://h/good", "http://h/goodies/x.so"},
        {"http://h/good/", "http://h/good"},
        {"http://h/good/", "http://h:8080/good/x.so"},
        {"http://h:8080/good/", "http://h/good/x.so"},
        {"http://h/good/", "https://h/good/x.so"},
        {"https://h/good/", "http://h/good/x.so"},
        {"http://h/good/", "file:///good/x.so"},
        {"http://h/good/", "http://h.evil/good/x.so"},
        // nothing that does not parse matches, nor a prefix that does not
        {"http://h/good/", "not a url"},
        {"http://h/good/", "http://h/good/a b.so"},
        {"http://h/good/", ""},
        {"not a prefix", "http://h/good/x.so"},
        {"http://h/good/?q=1", "http://h/good/x.so?q=1"},
    };
    for (const auto& c : refused) {
        CAPTURE(c.prefix);
        CAPTURE(c.url);
        CHECK_FALSE(url_under_prefixes(c.url, {c.prefix}));
    }
}

TEST_CASE("URLs under a prefix pass however they are spelled") {
    const Case allowed[] = {
        {"http://h/good/x-1.0.0.so", "http://h/good/x-1.0.0.so"},  // the exact prefix
        {"http://h/good/", "http://h/good/x.so"},                  // with a trailing slash
        {"http://h/good", "http://h/good/x.so"},                   // without one
        {"http://h/good", "http://h/good/sub/x.so"},
        {"http://h/good", "http://h/good"},
        {"http://h", "http://h/anything/x.so"},
        {"http://h/", "http://h/anything/x.so"},
        {"http://h:80/good/", "http://h/good/x.so"},  // default ports equal explicit ones
        {"http://h/good/", "http://h:80/good/x.so"},
        {"https://h:443/", "https://h/x.so"},
        {"https://h/", "https://h:443/x.so"},
        {"HTTP://H.Example/good/", "http://h.example/good/x.so"},  // scheme and host any case
        {"https://h.example/good/", "HTTPS://H.EXAMPLE/good/x.so"},
        {"http://h/good/", "http://h/good/./x.so"},  // dot-segments that stay inside
        {"http://h/good/", "http://h/good/sub/../x.so"},
        {"http://h/good/", "http://h/good/%78.so"},  // an escaped unreserved character
        {"http://h/go%6Fd/", "http://h/good/x.so"},
        {"http://h/good/", "http://h/good/x.so?sig=abc&e=1"},  // a query (presigned URLs)
        {"http://h/good/", "http://h/good/x.so#part"},
        {"http://u:p@h/good/", "http://u:p@h/good/x.so"},  // userinfo the prefix has
        {"http://127.0.0.1:18900/good/", "http://127.0.0.1:18900/good/x-1.0.0.so"},
        {"http://[::1]:8080/a/", "http://[::1]:8080/a/x.so"},
    };
    for (const auto& c : allowed) {
        CAPTURE(c.prefix);
        CAPTURE(c.url);
        CHECK(url_under_prefixes(c.url, {c.prefix}));
    }
    CHECK(url_under_prefixes("http://anything/x.so", {}));  // no prefixes: any URL
    CHECK(url_under_prefixes("http://b/x.so", {"http://a/", "http://b/"}));
    CHECK(url_under_prefixes("http://b/x.so", {"not a prefix", "http://b/"}));
}

TEST_CASE("file:// prefixes compare resolved paths") {
    lucid::test::TempDir dir;
    fs::create_directories(dir / "allowed" / "sub");
    fs::create_directories(dir / "other");
    for (const char* file : {"allowed/x-1.0.0.so", "allowed/sub/y-1.0.0.so", "other/x-1.0.0.so"}) {
        std::ofstream(dir / file) << "x";
    }
    fs::create_symlink(dir / "other" / "x-1.0.0.so", dir / "allowed" / "link-1.0.0.so");
    fs::create_symlink(dir / "other", dir / "allowed" / "door");
    fs::create_symlink(dir / "allowed", dir / "alias");
    const std::string root = "file://" + dir.path().string();
    const std::string prefix = root + "/allowed/";

    for (const std::string& url : {
             root + "/allowed/../other/x-1.0.0.so",      // dot-segments
             root + "/allowed/%2e%2e/other/x-1.0.0.so",  // encoded ones
             root + "/allowed/link-1.0.0.so",            // a symlink leading out
             root + "/allowed/door/x-1.0.0.so",          // a directory symlink leading out
             root + "/other/x-1.0.0.so",
             root + "/allowedx/x-1.0.0.so",
         }) {
        CAPTURE(url);
        CHECK_FALSE(url_under_prefixes(url, {prefix}));
        CHECK_FALSE(url_under_prefixes(url, {root + "/allowed"}));
    }
    for (const std::string& url : {
             root + "/allowed/x-1.0.0.so", root + "/allowed/sub/y-1.0.0.so",
             root + "/allowed/sub/../x-1.0.0.so",
             root + "/alias/x-1.0.0.so",          // a symlink leading in
             root + "/allowed/missing-1.0.0.so",  // not there (yet): the download says so
         }) {
        CAPTURE(url);
        CHECK(url_under_prefixes(url, {prefix}));
        CHECK(url_under_prefixes(url, {root + "/allowed"}));
        CHECK(url_under_prefixes(url, {root + "/alias/"}));  // a prefix through a symlink
    }
    CHECK(url_under_prefixes(root + "/allowed/x-1.0.0.so", {root + "/allowed/x-1.0.0.so"}));
    CHECK_FALSE(url_under_prefixes(root + "/allowed/x-1.0.0.so", {"http://h/"}));
    CHECK_FALSE(url_under_prefixes(root + "/allowed/x-1.0.0.so", {root + "/missing/"}));

    // The opened file's own path, as /proc/self/fd gives it.
    CHECK(file_under_prefixes(fs::canonical(dir / "allowed" / "x-1.0.0.so"), {prefix}));
    CHECK_FALSE(file_under_prefixes(fs::canonical(dir / "other" / "x-1.0.0.so"), {prefix}));
    CHECK_FALSE(file_under_prefixes(fs::canonical(dir / "other" / "x-1.0.0.so"), {"http://h/"}));
    CHECK(file_under_prefixes("/anything", {}));
}

TEST_CASE("a source URL is normalised: what is checked is what is requested") {
    const auto parsed =
        parse_source_url("HTTP://User:Pw@Example.COM/a/./b/%2e%2e/%7euser/x.so?q#f");
    REQUIRE_MESSAGE(parsed.url, parsed.error);
    CHECK(parsed.url->url == "http://User:Pw@Example.COM/a/~user/x.so?q#f");
    CHECK(parsed.url->scheme == "http");
    CHECK(parsed.url->host == "example.com");
    CHECK(parsed.url->port == 80);
    CHECK(parsed.url->path == "/a/~user/x.so");
    CHECK(parsed.url->has_userinfo);
    CHECK(parsed.url->user == "User");
    CHECK(parsed.url->password == "Pw");

    const auto file = parse_source_url("file:///opt/a%20b/../c/x-1.0.0.so");
    REQUIRE_MESSAGE(file.url, file.error);
    CHECK(file.url->file_path == "/opt/c/x-1.0.0.so");
    CHECK(file.url->host.empty());

    // Refused, with the reason and never the URL (it may hold a secret).
    for (const char* bad :
         {"ftp://h/x.so", "file://relative/x.so", "/etc/passwd", "javascript:x"}) {
        CAPTURE(bad);
        CHECK(parse_source_url(bad).error == "must start with https://, http:// or file:///");
    }
    const auto slash = parse_source_url("http://user:pa/ss@host/x.so");
    CHECK_FALSE(slash.url);
    CHECK(slash.error.rfind("is not a valid URL: ", 0) == 0);
    CHECK(slash.error.find("pa/ss") == std::string::npos);
    CHECK(parse_source_url("http://h/%zz/x.so").error ==
          "is not a valid URL: bad percent-escape in the path");
    CHECK_FALSE(parse_source_url("file:///a%00b/x.so").url);
}

TEST_CASE("a shown source URL has no userinfo, query or fragment") {
    const Case cases[] = {
        {"https://TOKEN@h/x.so", "https://***@h/x.so"},
        {"https://user:secret@h/x.so", "https://***@h/x.so"},
        {"https://user:p%2Fss@h:8443/x.so", "https://***@h:8443/x.so"},
        {"https://h/x.so?X-Amz-Signature=abc&e=1", "https://h/x.so?***"},
        {"https://h/x.so#token", "https://h/x.so#***"},
        {"https://t@h/x.so?sig=1#f", "https://***@h/x.so?***#***"},
        {"https://h/x.so", "https://h/x.so"},
        {"file:///opt/x.so", "file:///opt/x.so"},
        {"ftp://u:p@h/x.so", "ftp://***@h/x.so"},
        {"http://user:pa/ss@host/x.so", "(invalid URL)"},  // not a URL: nothing of it is shown
        {"garbage", "(invalid URL)"},
    };
    for (const auto& c : cases) {
        CAPTURE(c.prefix);
        CHECK(redact_source_url(c.prefix) == c.url);
    }
}

TEST_CASE("the artifact file name of a URL is its last segment, decoded, never a path") {
    auto name = [](const std::string& url) { return url_file_name(*parse_source_url(url).url); };
    CHECK(name("https://h/dl/x-1.0.0.so?sig=abc") == "x-1.0.0.so");
    CHECK(name("https://h/dl/x-1.0.0%2Bbuild.so") == "x-1.0.0+build.so");
    CHECK(name("https://h/dl/") == "");
    CHECK(name("https://h/dl/..") == "");  // normalised away: the path is "/"
    CHECK(name("https://h/dl/a%2Fb.so") == "");
    CHECK(name("https://h/releases/latest") == "latest");
}

TEST_CASE("a prefix setting must be a source URL without a query or fragment") {
    CHECK(status_text(source_prefix_problem("https://artifacts.example.com/lucid/")).empty());
    CHECK(status_text(source_prefix_problem("file:///opt/lucid/")).empty());
    CHECK(status_text(source_prefix_problem("artifacts.example.com")) ==
          "must start with https://, http:// or file:///");
    CHECK(status_text(source_prefix_problem("https://h/?sig=1")) ==
          "must not have a query or a fragment");
    CHECK(status_text(source_prefix_problem("https://h/#f")) ==
          "must not have a query or a fragment");
    CHECK(status_text(source_prefix_problem("https://t@h:99999/")) ==
          "is not a valid URL: Port number was not a decimal number between 0 and 65535");
}
