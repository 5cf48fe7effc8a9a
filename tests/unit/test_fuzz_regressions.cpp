// Inputs found by the fuzz targets in tests/fuzz/, kept as unit tests once fixed.
#include <doctest/doctest.h>

#include <string>

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
