#include "self_update/upgrade_request.hpp"

#include "lucid/registry/semver.hpp"

namespace lucid::host::self_update {

ParsedUpgrade parse_upgrade_request(const rapidjson::Value& payload,
                                    const install::InstallSettings& settings) {
    ParsedUpgrade parsed;
    auto fail = [&](std::string why) {
        parsed.error = "validation_error: " + std::move(why);
        return parsed;
    };
    const auto version = payload.FindMember("version");
    if (version == payload.MemberEnd()) return fail("missing field 'version'");
    if (!version->value.IsString() ||
        !registry::Version::parse(
            std::string(version->value.GetString(), version->value.GetStringLength()))) {
        // It names a directory of {data}/agent/: nothing but a version may.
        return fail("'version' must be a semantic version (like 1.4.0)");
    }
    const auto source = payload.FindMember("source");
    if (source == payload.MemberEnd()) return fail("missing field 'source'");
    auto checked = install::parse_install_source(source->value, settings);
    if (!checked.source) {
        parsed.error = std::move(checked.error);
        return parsed;
    }
    UpgradeRequest request;
    request.version.assign(version->value.GetString(), version->value.GetStringLength());
    request.source = std::move(*checked.source);
    parsed.request = std::move(request);
    return parsed;
}

namespace {
constexpr std::string_view kDesiredUpgradePrefix = "desired revision ";
}

std::string desired_upgrade_id(std::uint64_t revision) {
    return std::string(kDesiredUpgradePrefix) + std::to_string(revision);
}

bool is_desired_upgrade_id(std::string_view request_id) {
    return request_id.rfind(kDesiredUpgradePrefix, 0) == 0;
}

}  // namespace lucid::host::self_update
