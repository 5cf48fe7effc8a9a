#include "mqtt/mqtt_url.hpp"

#include <cctype>

namespace lucid::host::mqtt {
namespace {

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

std::optional<int> parse_port(std::string_view text) {
    if (text.empty() || text.size() > 5) return std::nullopt;
    int port = 0;
    for (char c : text) {
        if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
        port = port * 10 + (c - '0');
    }
    if (port < 1 || port > 65535) return std::nullopt;
    return port;
}

MqttUrlResult failure(std::string error) { return MqttUrlResult{std::nullopt, std::move(error)}; }

// The host goes to libmosquitto as a C string and back into URLs by redacted_url(): refuse what
// would not survive either (controls, NUL, spaces, stray brackets, an IPv6 host without []).
bool plausible_host(std::string_view host, bool bracketed) {
    for (unsigned char c : host) {
        if (c <= ' ' || c == 0x7f || c == '[' || c == ']' || (c == ':' && !bracketed)) {
            return false;
        }
    }
    return true;
}

}  // namespace

std::optional<std::string> percent_decode(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '%') {
            out.push_back(text[i]);
            continue;
        }
        if (i + 2 >= text.size()) return std::nullopt;
        const int hi = hex_value(text[i + 1]);
        const int lo = hex_value(text[i + 2]);
        if (hi < 0 || lo < 0) return std::nullopt;
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
    }
    return out;
}

std::string percent_encode_userinfo(std::string_view text) {
    static const char* hex = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : text) {
        if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
            out.push_back(static_cast<char>(c));
        } else {
            out.push_back('%');
            out.push_back(hex[c >> 4]);
            out.push_back(hex[c & 15]);
        }
    }
    return out;
}

MqttUrlResult parse_mqtt_url(std::string_view url) {
    MqttEndpoint endpoint;
    const auto scheme_end = url.find("://");
    if (scheme_end == std::string_view::npos) {
        return failure("broker URL must start with mqtt:// or mqtts://");
    }
    const auto scheme = url.substr(0, scheme_end);
    if (scheme == "mqtt") {
        endpoint.tls = false;
        endpoint.port = 1883;
    } else if (scheme == "mqtts") {
        endpoint.tls = true;
        endpoint.port = 8883;
    } else {
        return failure("broker URL scheme must be mqtt or mqtts, got '" + std::string(scheme) +
                       "'");
    }
    auto rest = url.substr(scheme_end + 3);
    // Everything after the authority is ignored only when it is a bare "/".
    const auto slash = rest.find('/');
    if (slash != std::string_view::npos) {
        if (rest.substr(slash) != "/") return failure("broker URL must not have a path");
        rest = rest.substr(0, slash);
    }
    // The last '@' separates credentials: an unencoded '@' in a password is tolerated.
    const auto at = rest.rfind('@');
    if (at != std::string_view::npos) {
        const auto userinfo = rest.substr(0, at);
        rest = rest.substr(at + 1);
        const auto colon = userinfo.find(':');
        auto user = percent_decode(userinfo.substr(0, colon));
        std::optional<std::string> password = std::string();
        if (colon != std::string_view::npos) password = percent_decode(userinfo.substr(colon + 1));
        if (!user || !password)
            return failure("broker URL has a bad percent-escape in user:password");
        if (user->empty()) return failure("broker URL has credentials without a user name");
        endpoint.username = std::move(*user);
        endpoint.password = std::move(*password);
    }
    std::string_view host;
    std::string_view port_text;
    if (!rest.empty() && rest.front() == '[') {
        const auto close = rest.find(']');
        if (close == std::string_view::npos) return failure("broker URL has an unclosed [ in host");
        host = rest.substr(1, close - 1);
        const auto after = rest.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':') return failure("broker URL has garbage after the host");
            port_text = after.substr(1);
            if (port_text.empty()) return failure("broker URL has an empty port");
        }
    } else {
        const auto colon = rest.rfind(':');
        host = rest.substr(0, colon);
        if (colon != std::string_view::npos) {
            port_text = rest.substr(colon + 1);
            if (port_text.empty()) return failure("broker URL has an empty port");
        }
    }
    if (host.empty()) return failure("broker URL has no host");
    if (!plausible_host(host, rest.front() == '[')) {
        return failure("broker URL has an invalid host (IPv6 needs [brackets])");
    }
    if (!port_text.empty()) {
        auto port = parse_port(port_text);
        if (!port) {
            return failure("broker URL port must be 1-65535, got '" + std::string(port_text) + "'");
        }
        endpoint.port = *port;
    }
    endpoint.host = std::string(host);
    return MqttUrlResult{std::move(endpoint), {}};
}

std::string redacted_url(const MqttEndpoint& e) {
    std::string url = e.tls ? "mqtts://" : "mqtt://";
    if (!e.username.empty()) {
        url += percent_encode_userinfo(e.username);
        if (!e.password.empty()) url += ":***";
        url += "@";
    }
    const bool ipv6 = e.host.find(':') != std::string::npos;
    url += ipv6 ? "[" + e.host + "]" : e.host;
    url += ":" + std::to_string(e.port);
    return url;
}

std::string redact_url(std::string_view url) {
    const auto scheme_end = url.find("://");
    if (scheme_end == std::string_view::npos) return std::string(url);
    const auto authority_start = scheme_end + 3;
    auto authority_end = url.find('/', authority_start);
    if (authority_end == std::string_view::npos) authority_end = url.size();
    const auto authority = url.substr(authority_start, authority_end - authority_start);
    const auto at = authority.rfind('@');
    if (at == std::string_view::npos) return std::string(url);
    const auto colon = authority.find(':');
    if (colon == std::string_view::npos || colon > at) return std::string(url);
    std::string out(url.substr(0, authority_start + colon + 1));
    out += "***";
    out += url.substr(authority_start + at);
    return out;
}

}  // namespace lucid::host::mqtt
