// Broker URLs: `mqtt://[user[:password]@]host[:port][/]` and `mqtts://...` (TLS), with
// percent-encoded user and password (a password may contain `@`, `:` or `/`), IPv6 hosts in
// brackets. Default ports 1883 / 8883.
//
// Passwords never reach a log or a payload: print an endpoint with redacted_url(), and a raw URL
// with redact_url(). Pure; thread-safe.
//
//   auto parsed = parse_mqtt_url("mqtts://dev:p%40ss@broker:8883");
//   parsed.endpoint->password == "p@ss";  redacted_url(*parsed.endpoint) →
//   "mqtts://dev:***@broker:8883"
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace lucid::host::mqtt {

struct MqttEndpoint {
    bool tls = false;
    std::string host = "127.0.0.1";
    int port = 1883;
    std::string username;  // decoded; empty → anonymous
    std::string password;  // decoded; empty → none

    bool operator==(const MqttEndpoint& o) const {
        return tls == o.tls && host == o.host && port == o.port && username == o.username &&
               password == o.password;
    }
};

struct MqttUrlResult {
    std::optional<MqttEndpoint> endpoint;
    std::string error;  // set when endpoint is empty; never contains the password
};

MqttUrlResult parse_mqtt_url(std::string_view url);

// The endpoint as a URL with the password replaced by `***` (user kept, re-encoded).
std::string redacted_url(const MqttEndpoint& endpoint);

// Replaces the password part of any `scheme://user:password@host` string by `***`; strings
// without credentials are returned unchanged. Safe on malformed input.
std::string redact_url(std::string_view url);

// `%XX` decoding; nullopt on a truncated or non-hex escape.
std::optional<std::string> percent_decode(std::string_view text);
std::string percent_encode_userinfo(std::string_view text);

}  // namespace lucid::host::mqtt
