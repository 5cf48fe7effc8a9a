// The small string parsers: broker URLs, artifact and wheel names, versions, base64.
// The first byte picks the parser so that each keeps its own coverage; the rest is the input.
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

#include "install/base64.hpp"
#include "lucid/registry/dist_name.hpp"
#include "lucid/registry/semver.hpp"
#include "mqtt/mqtt_url.hpp"

namespace {

void check(bool condition) {
    if (!condition) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace lucid;
    if (size == 0) return 0;
    const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
    switch (data[0] % 6) {
        case 0: {
            host::mqtt::MqttUrlResult url = host::mqtt::parse_mqtt_url(text);
            check(url.endpoint.has_value() == url.error.empty());
            if (url.endpoint) {
                // What we print must parse back to the same endpoint, password aside.
                host::mqtt::MqttUrlResult again =
                    host::mqtt::parse_mqtt_url(host::mqtt::redacted_url(*url.endpoint));
                check(again.endpoint.has_value());
                check(again.endpoint->host == url.endpoint->host &&
                      again.endpoint->port == url.endpoint->port &&
                      again.endpoint->username == url.endpoint->username);
            }
            break;
        }
        case 1:
            (void)host::mqtt::redact_url(text);
            (void)host::mqtt::percent_decode(text);
            break;
        case 2:
            try {
                registry::ArtifactName name = registry::parse_artifact_name(text);
                check(!name.dist_name.empty() && !name.version.empty());
            } catch (const std::invalid_argument&) {
            }
            break;
        case 3: {
            const std::string once = registry::normalize_dist_name(text);
            check(registry::normalize_dist_name(once) == once);
            (void)registry::dist_name_from_wheel(text);
            break;
        }
        case 4:
            if (auto version = registry::Version::parse(text)) {
                auto again = registry::Version::parse(version->to_string());
                check(again.has_value() && registry::compare(*again, *version) == 0);
            }
            break;
        case 5:
            if (auto bytes = host::install::base64_decode(text)) {
                check(host::install::base64_decode(host::install::base64_encode(*bytes)) == bytes);
            }
            break;
    }
    return 0;
}
