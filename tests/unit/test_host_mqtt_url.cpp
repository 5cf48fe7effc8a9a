#include <doctest/doctest.h>

#include "mqtt/mqtt_url.hpp"

using namespace lucid::host::mqtt;

TEST_CASE("parses a plain mqtt URL with the default port") {
    auto r = parse_mqtt_url("mqtt://broker.local");
    REQUIRE(r.endpoint);
    CHECK_FALSE(r.endpoint->tls);
    CHECK(r.endpoint->host == "broker.local");
    CHECK(r.endpoint->port == 1883);
    CHECK(r.endpoint->username.empty());
}

TEST_CASE("parses mqtts with percent-decoded credentials and an explicit port") {
    auto r = parse_mqtt_url("mqtts://dev%2Dice:p%40ss%3Aw%2Frd@10.0.0.5:9883/");
    REQUIRE(r.endpoint);
    CHECK(r.endpoint->tls);
    CHECK(r.endpoint->username == "dev-ice");
    CHECK(r.endpoint->password == "p@ss:w/rd");
    CHECK(r.endpoint->host == "10.0.0.5");
    CHECK(r.endpoint->port == 9883);
}

TEST_CASE("mqtts defaults to port 8883 and IPv6 hosts use brackets") {
    auto r = parse_mqtt_url("mqtts://[::1]");
    REQUIRE(r.endpoint);
    CHECK(r.endpoint->host == "::1");
    CHECK(r.endpoint->port == 8883);
    auto p = parse_mqtt_url("mqtt://[fe80::1]:1884");
    REQUIRE(p.endpoint);
    CHECK(p.endpoint->port == 1884);
}

TEST_CASE("an unencoded @ in the password is tolerated: the last @ ends the credentials") {
    auto r = parse_mqtt_url("mqtt://user:a@b@host");
    REQUIRE(r.endpoint);
    CHECK(r.endpoint->password == "a@b");
    CHECK(r.endpoint->host == "host");
}

TEST_CASE("rejects bad URLs with a message that does not contain the password") {
    for (const char* bad :
         {"broker:1883", "http://host", "mqtt://", "mqtt://host:0", "mqtt://host:65536",
          "mqtt://host:x", "mqtt://host:", "mqtt://host/path", "mqtt://u:secret%zz@host",
          "mqtt://:secret@host", "mqtt://[::1"}) {
        CAPTURE(bad);
        auto r = parse_mqtt_url(bad);
        CHECK_FALSE(r.endpoint);
        CHECK_FALSE(r.error.empty());
        CHECK(r.error.find("secret") == std::string::npos);
    }
}

TEST_CASE("redacts the password of a raw URL and leaves other URLs unchanged") {
    CHECK(redact_url("mqtts://dev:s3cret@broker:8883") == "mqtts://dev:***@broker:8883");
    CHECK(redact_url("mqtt://dev:a@b@broker/x") == "mqtt://dev:***@broker/x");
    CHECK(redact_url("mqtt://dev@broker") == "mqtt://dev@broker");
    CHECK(redact_url("mqtt://broker:1883") == "mqtt://broker:1883");
    CHECK(redact_url("not a url") == "not a url");
}

TEST_CASE("an endpoint prints as a URL without its password") {
    MqttEndpoint e;
    e.tls = true;
    e.host = "broker";
    e.port = 8883;
    e.username = "a b";
    e.password = "hunter2";
    const auto text = redacted_url(e);
    CHECK(text == "mqtts://a%20b:***@broker:8883");
    CHECK(text.find("hunter2") == std::string::npos);
}

TEST_CASE("percent_decode refuses truncated and non-hex escapes") {
    CHECK(percent_decode("a%41") == std::optional<std::string>("aA"));
    CHECK_FALSE(percent_decode("%4"));
    CHECK_FALSE(percent_decode("%"));
    CHECK_FALSE(percent_decode("%g1"));
}
