// Inputs found by the fuzz targets in tests/fuzz/, kept as unit tests once fixed.
#include <doctest/doctest.h>

#include <string>

#include "install/signed_statement.hpp"
#include "install/source_url.hpp"
#include "mqtt/mqtt_url.hpp"

using namespace lucid::host::mqtt;

TEST_CASE("a broker URL whose host would not print back as the same URL is refused") {
    // fuzz_names: the last '@' ends the user part, leaving the host "\0\4\v\x91" "0::1]" which
    // redacted_url() bracketed into a URL that no longer parsed.
    const std::string found(
        "mqtt://[fe8\x01\x00`@\x00\x04\x0b\x91"
        "0::1]:1884/",
        30);
    for (const std::string& bad :
         {found, std::string("mqtt://::1:1883"), std::string("mqtt://host]:1883"),
          std::string("mqtt://a b"), std::string("mqtt://ho\x00st", 13),
          std::string("mqtt://[a b]")}) {
        CAPTURE(bad);
        auto r = parse_mqtt_url(bad);
        CHECK_FALSE(r.endpoint);
        CHECK(r.error == "broker URL has an invalid host (IPv6 needs [brackets])");
    }
}

TEST_CASE("the hosts that stay valid print back to the same endpoint") {
    for (const char* good : {"mqtt://broker.local", "mqtts://u:p@[fe80::1]:1884",
                             "mqtt://10.0.0.5:9883/", "mqtt://[::1]"}) {
        CAPTURE(good);
        auto r = parse_mqtt_url(good);
        REQUIRE(r.endpoint);
        auto again = parse_mqtt_url(redacted_url(*r.endpoint));
        REQUIRE(again.endpoint);
        CHECK(again.endpoint->host == r.endpoint->host);
        CHECK(again.endpoint->port == r.endpoint->port);
        CHECK(again.endpoint->username == r.endpoint->username);
    }
}

TEST_CASE("a file:// source URL with a query or fragment is refused, not rebuilt wrongly") {
    // fuzz_source_url: curl dropped the query of `file:///t/..?./etc/x-1.0.0.s/`, and the URL
    // rebuilt from the normalised path read "file://(nil)", which did not parse back.
    for (const char* url : {"file:///t/..?./etc/x-1.0.0.s/", "file:///t/x-1.0.0.so?q",
                            "file:///t/x-1.0.0.so#f", "file:///?"}) {
        CAPTURE(url);
        const auto parsed = lucid::host::install::parse_source_url(url);
        CHECK_FALSE(parsed.url);
        CHECK(parsed.error == "is not a valid URL: a file:// URL has no query or fragment");
    }
    const auto fine = lucid::host::install::parse_source_url("file:///t/x%3F-1.0.0.so");
    REQUIRE(fine.url);
    CHECK(fine.url->file_path == "/t/x?-1.0.0.so");
}

TEST_CASE("the file:// root URL parses back to itself") {
    // fuzz_source_url: curl 7.88 writes `file:///` back as "file://(nil)".
    using namespace lucid::host::install;
    const auto root = parse_source_url("file:///");
    REQUIRE(root.url);
    CHECK(root.url->url == "file:///");
    CHECK(parse_source_url(root.url->url).url);
    CHECK(redact_source_url("file:///") == "file:///");
}

TEST_CASE("a lucid-sig-1 statement value with a space is refused: the canonical text has none") {
    // fuzz_signature: "dist": "lu      cid-agent-cpu" parsed, and its canonical statement then
    // held whitespace, which the contract says it never does.
    const std::string text =
        R"({"format":"lucid-sig-1","key_id":"0123456789abcdef","statement":{"sha256":")" +
        std::string(64, 'a') +
        R"(","dist":"lu      cid-agent-cpu","version":"1.2.0","component":"cpu",)"
        R"("platform":"linux_x86_64","signed_at":"2026-12-01T02:30:00.000Z"},"signature":")" +
        std::string(86, 'A') + R"(=="})";
    const auto parsed = lucid::host::install::parse_signed_statement(text);
    REQUIRE_FALSE(parsed);
    CHECK(parsed.error().message ==
          "signature invalid: not a lucid-sig-1 statement: 'statement.dist' must be 1 to 256 "
          "printable ASCII characters, no space, '\"' or '\\'");
}

TEST_CASE("a lucid-sig-1 text is only one the agent would read as lucid-sig-1") {
    // fuzz_signature: a byte 0xEF before the '{' passed RapidJSON, while the agent (which picks
    // the parser by the first non-blank character) would have read the text as bare base64.
    const std::string text = "\xef{\"format\":\"lucid-sig-1\"}";
    const auto parsed = lucid::host::install::parse_signed_statement(text);
    REQUIRE_FALSE(parsed);
    CHECK(parsed.error().message ==
          "signature invalid: not a lucid-sig-1 statement: not a JSON object");
}
