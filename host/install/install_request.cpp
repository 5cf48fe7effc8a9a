#include "install/install_request.hpp"

#include <cctype>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "contract/component_id_field.hpp"
#include "install/base64.hpp"
#include "install/digest.hpp"
#include "install/source_url.hpp"
#include "lucid/registry/echoed_value.hpp"
#include "lucid/registry/registry_json.hpp"
#include "lucid/registry/semver.hpp"

namespace lucid::host::install {
namespace {

using rapidjson::Value;
using registry::echoed_value;

// NAME_MAX: a longer name could never be created, and it bounds what errors quote.
constexpr std::size_t kMaxFileNameBytes = 255;

// Thrown internally and turned into ParsedInstall::error at the boundary.
struct Invalid {
    std::string message;
};

[[noreturn]] void invalid(const std::string& message) {
    throw Invalid{"validation_error: " + message};
}

const std::string& require_string(const Value& object, const char* field, const char* where,
                                  std::string& storage) {
    auto it = object.FindMember(field);
    if (it == object.MemberEnd()) invalid(std::string("missing field '") + where + field + "'");
    if (!it->value.IsString() || it->value.GetStringLength() == 0) {
        invalid(std::string("'") + where + field + "' must be a non-empty string");
    }
    storage.assign(it->value.GetString(), it->value.GetStringLength());
    if (storage.find('\0') != std::string::npos) {
        invalid(std::string("'") + where + field + "' contains a NUL byte");
    }
    return storage;
}

std::string string_field(const Value& object, const char* field, const char* where) {
    std::string value;
    require_string(object, field, where, value);
    return value;
}

std::string lowercase(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

// A single path segment: the name a file gets in our directories. No separators, no dot-dots,
// not longer than a file name can be.
void require_plain_name(const std::string& name, const char* field) {
    if (name.find('/') != std::string::npos || name.find('\\') != std::string::npos ||
        name == "." || name == ".." || name.empty() || name.size() > kMaxFileNameBytes) {
        invalid(std::string("'") + field + "' must be a plain file name, got '" +
                echoed_value(name) + "'");
    }
}

// A URL path segment for github_release (`owner`, `repo`, `tag`): no way out of its slot.
void require_url_segment(const std::string& value, const char* field) {
    for (char c : value) {
        const bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' ||
                        c == '.' || c == '+';
        if (!ok || value == "." || value == "..") {
            invalid(std::string("'source.") + field + "' contains characters not allowed in a " +
                    "release path: '" + echoed_value(value) + "'");
        }
    }
}

bool ends_with(const std::string& s, const std::string& suffix) {
    return s.size() >= suffix.size() &&
           s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Parsed, normalised (what will be requested) and under an allowed prefix.
SourceUrl allowed_url(const std::string& url, const InstallSettings& settings) {
    auto parsed = parse_source_url(url);
    if (!parsed.url) invalid("'source.url' " + parsed.error);
    if (!url_under_prefixes(url, settings.allowed_url_prefixes)) {
        invalid("source URL is not under an allowed prefix: " +
                echoed_value(redact_source_url(url)));
    }
    return std::move(*parsed.url);
}

// `<dist>-<version>[-<tag>].so` with a semantic version. `file_name` is a plain name already.
registry::ArtifactName parse_name(const std::string& file_name) {
    registry::ArtifactName artifact;
    try {
        artifact = registry::parse_artifact_name(file_name);
    } catch (const std::invalid_argument& e) {
        invalid(e.what());
    }
    if (!registry::Version::parse(artifact.version)) {
        invalid("artifact version '" + artifact.version + "' is not a semantic version");
    }
    return artifact;
}

void require_version_match(const std::optional<std::string>& version,
                           const registry::ArtifactName& artifact) {
    if (version && *version != artifact.version) {
        invalid("'version' " + echoed_value(*version) + " does not match the artifact's " +
                artifact.version);
    }
}

std::string to_json(const Value& value) {
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
    value.Accept(writer);
    return {buffer.GetString(), buffer.GetSize()};
}

// The source as the registry keeps it and core/components publishes it: no inline bytes, and
// no userinfo, query or fragment of a URL (redact_source_url). Every member of those names:
// duplicate keys are refused earlier (contract::parse_command), this holds without that too.
std::string stored_source_json(const Value& source) {
    rapidjson::Document copy;
    copy.CopyFrom(source, copy.GetAllocator());
    while (copy.RemoveMember("data_base64")) {
    }
    for (auto& member : copy.GetObject()) {
        if (member.value.IsString() &&
            std::string_view(member.name.GetString(), member.name.GetStringLength()) == "url") {
            member.value.SetString(redact_source_url(std::string_view(
                                       member.value.GetString(), member.value.GetStringLength())),
                                   copy.GetAllocator());
        }
    }
    return to_json(copy);
}

// A broker source's topic: under the fleet's artifacts, one exact topic (no wildcard, no empty
// level). Returns the file name its levels give, `{dist}/{version}/{platform}` after the prefix
// (contract §4.1), or "" when they do not have that shape.
std::string broker_topic_file_name(const std::string& topic, const InstallSettings& settings) {
    const std::string& prefix = settings.artifacts_prefix;
    if (topic.compare(0, prefix.size(), prefix) != 0 || topic.size() == prefix.size()) {
        invalid("'source.topic' '" + echoed_value(topic) + "' must be under " + prefix);
    }
    if (topic.find_first_of("+#") != std::string::npos || topic.back() == '/' ||
        topic.find("//") != std::string::npos) {
        invalid("'source.topic' '" + echoed_value(topic) +
                "' must be one topic: no wildcard, no empty level");
    }
    std::vector<std::string> levels;
    std::size_t start = prefix.size();
    while (true) {
        const auto slash = topic.find('/', start);
        levels.push_back(topic.substr(start, slash - start));
        if (slash == std::string::npos) break;
        start = slash + 1;
    }
    if (levels.size() != 3) return "";
    return registry::artifact_file_name(levels[0], levels[1], levels[2]);
}

InstallSource parse_source(const Value& source, const InstallSettings& settings) {
    if (!source.IsObject()) invalid("'source' must be an object");
    InstallSource out;
    bool named_by_download = false;
    const std::string type = string_field(source, "type", "source.");
    const std::string sha = string_field(source, "sha256", "source.");
    if (!is_sha256_hex(sha)) invalid("'source.sha256' must be 64 hex digits");
    out.sha256 = lowercase(sha);
    if (auto it = source.FindMember("signature"); it != source.MemberEnd() && !it->value.IsNull()) {
        if (!it->value.IsString()) invalid("'source.signature' must be a string");
        out.signature = std::string(it->value.GetString(), it->value.GetStringLength());
    }

    if (type == "url") {
        out.type = SourceType::url;
        const SourceUrl url = allowed_url(string_field(source, "url", "source."), settings);
        out.url = url.url;
        if (auto it = source.FindMember("filename");
            it != source.MemberEnd() && !it->value.IsNull()) {
            out.file_name = string_field(source, "filename", "source.");
            require_plain_name(out.file_name, "source.filename");
        } else {
            out.file_name = url_file_name(url);
            // A download link (`/releases/latest`, `/download?id=7`): the redirects name it.
            if (url.scheme != "file" && !out.file_name.empty() &&
                !ends_with(out.file_name, ".so")) {
                out.file_name.clear();
                named_by_download = true;
            }
        }
    } else if (type == "github_release") {
        out.type = SourceType::github_release;
        const std::string owner = string_field(source, "owner", "source.");
        const std::string repo = string_field(source, "repo", "source.");
        const std::string tag = string_field(source, "tag", "source.");
        const std::string asset = string_field(source, "asset", "source.");
        require_url_segment(owner, "owner");
        require_url_segment(repo, "repo");
        require_url_segment(tag, "tag");
        require_url_segment(asset, "asset");
        out.url = allowed_url(settings.github_base + "/" + owner + "/" + repo +
                                  "/releases/download/" + tag + "/" + asset,
                              settings)
                      .url;
        out.file_name = asset;
    } else if (type == "inline") {
        out.type = SourceType::inline_data;
        out.file_name = string_field(source, "filename", "source.");
        require_plain_name(out.file_name, "source.filename");
        const std::string encoded = string_field(source, "data_base64", "source.");
        const std::string too_big = "inline artifact exceeds the size cap of " +
                                    std::to_string(settings.inline_max_bytes) + " bytes";
        // Before decoding, so a huge payload costs no second copy; the estimate may exceed the
        // decoded size by the padding, so the exact size is checked after.
        if (encoded.size() / 4 * 3 > settings.inline_max_bytes + 3) invalid(too_big);
        auto decoded = base64_decode(encoded);
        if (!decoded) invalid("'source.data_base64' is not valid base64");
        if (decoded->size() > settings.inline_max_bytes) invalid(too_big);
        out.inline_data = std::move(*decoded);
    } else if (type == "broker") {
        out.type = SourceType::broker;
        out.topic = string_field(source, "topic", "source.");
        out.file_name = broker_topic_file_name(out.topic, settings);
        if (auto it = source.FindMember("filename");
            it != source.MemberEnd() && !it->value.IsNull()) {
            out.file_name = string_field(source, "filename", "source.");
            require_plain_name(out.file_name, "source.filename");
        } else if (out.file_name.empty()) {
            invalid("'source.topic' '" + echoed_value(out.topic) + "' is not " +
                    settings.artifacts_prefix +
                    "<dist>/<version>/<platform>; give 'source.filename'");
        }
    } else {
        invalid("'source.type' must be one of url, github_release, inline, broker");
    }
    if (!named_by_download) require_plain_name(out.file_name, "artifact file name");
    out.json = stored_source_json(source);
    return out;
}

}  // namespace

ParsedSource parse_install_source(const Value& source, const InstallSettings& settings) {
    ParsedSource parsed;
    try {
        parsed.source = parse_source(source, settings);
    } catch (const Invalid& e) {
        parsed.error = e.message;
    }
    return parsed;
}

ArtifactFileName artifact_name_from_urls(const std::vector<std::string>& urls,
                                         const std::optional<std::string>& version) {
    ArtifactFileName out;
    try {
        for (const auto& url : urls) {
            const auto parsed = parse_source_url(url);
            const std::string name = parsed.url ? url_file_name(*parsed.url) : "";
            if (!ends_with(name, ".so")) continue;
            require_plain_name(name, "artifact file name");
            out.artifact = parse_name(name);
            require_version_match(version, out.artifact);
            out.file_name = name;
            return out;
        }
        invalid("no URL of the download names an artifact (<dist>-<version>[-<platform>].so): " +
                echoed_value(redact_source_url(urls.empty() ? "" : urls.back())) +
                "; give 'source.filename'");
    } catch (const Invalid& e) {
        out.error = e.message;
    }
    return out;
}

ParsedInstall parse_install_request(const Value& payload, const InstallSettings& settings) {
    ParsedInstall parsed;
    try {
        InstallRequest request;
        auto component_id = contract::read_component_id(payload);
        if (!component_id.ok()) throw Invalid{component_id.error};
        request.component_id = std::move(component_id.id);
        auto source = payload.FindMember("source");
        if (source == payload.MemberEnd()) invalid("missing field 'source'");
        request.source = parse_source(source->value, settings);
        if (!request.source.file_name.empty()) {
            request.artifact = parse_name(request.source.file_name);
        }
        if (auto it = payload.FindMember("version");
            it != payload.MemberEnd() && !it->value.IsNull()) {
            if (!it->value.IsString()) invalid("'version' must be a string");
            request.version = std::string(it->value.GetString(), it->value.GetStringLength());
        }
        if (request.artifact) require_version_match(request.version, *request.artifact);
        if (auto it = payload.FindMember("config");
            it != payload.MemberEnd() && !it->value.IsNull()) {
            if (!it->value.IsObject()) invalid("'config' must be an object");
            request.config_json = to_json(it->value);
        }
        if (auto it = payload.FindMember("isolation");
            it != payload.MemberEnd() && !it->value.IsNull()) {
            if (!it->value.IsString() || (it->value != "in_process" && it->value != "process")) {
                invalid("'isolation' must be \"in_process\" or \"process\"");
            }
            request.isolation = it->value.GetString();
        }
        if (auto it = payload.FindMember("limits");
            it != payload.MemberEnd() && !it->value.IsNull()) {
            try {
                request.limits = registry::read_limits(it->value);
            } catch (const std::invalid_argument& e) {
                invalid(e.what());
            }
        }
        // Its shape only: whether it is allowed is the lifecycle's (LUCID_RUN_AS_ALLOWED).
        if (auto it = payload.FindMember("run_as");
            it != payload.MemberEnd() && !it->value.IsNull()) {
            try {
                request.run_as = registry::read_run_as(it->value);
            } catch (const std::invalid_argument& e) {
                invalid(e.what());
            }
        }
        // A permission, not a wish: only `true` lets an install go below the dist's floor
        // (install/trust_state.hpp); `null` is not "false" but a mistake (contract §4.1).
        if (auto it = payload.FindMember("allow_downgrade"); it != payload.MemberEnd()) {
            if (!it->value.IsBool()) invalid("'allow_downgrade' must be true or false");
            request.allow_downgrade = it->value.GetBool();
        }
        // Checked (signature, expiry, dist and version) only where a downgrade needs it.
        if (auto it = payload.FindMember("rollback_permit"); it != payload.MemberEnd()) {
            if (!it->value.IsString()) invalid("'rollback_permit' must be a string");
            if (!request.allow_downgrade) {
                invalid("'rollback_permit' goes with 'allow_downgrade': true");
            }
            request.rollback_permit =
                std::string(it->value.GetString(), it->value.GetStringLength());
        }
        parsed.request = std::move(request);
    } catch (const Invalid& e) {
        parsed.error = e.message;
    }
    return parsed;
}

}  // namespace lucid::host::install
