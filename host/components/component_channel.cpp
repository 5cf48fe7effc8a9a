#include "components/component_channel.hpp"

#include <rapidjson/document.h>

#include <system_error>

#include "lucid/registry/semver.hpp"

namespace lucid::host::components {
namespace fs = std::filesystem;

namespace {

const char* const kDropinType = "dropin";

// The `source` object's string member `key`, "" when absent.
std::string source_field(const std::string& source_json, const char* key) {
    rapidjson::Document source;
    source.Parse(source_json.c_str());
    if (!source.IsObject()) return "";
    auto it = source.FindMember(key);
    if (it == source.MemberEnd() || !it->value.IsString()) return "";
    return {it->value.GetString(), it->value.GetStringLength()};
}

bool exists_or_dangles(const fs::path& path) {
    std::error_code ec;
    return fs::symlink_status(path, ec).type() != fs::file_type::not_found;
}

bool source_has(const std::string& source_json, const char* key) {
    rapidjson::Document source;
    source.Parse(source_json.c_str());
    return source.IsObject() && source.HasMember(key);
}

}  // namespace

Channel channel_of_source(const std::string& source_json) {
    if (source_field(source_json, "type") == kDropinType) return Channel::dropin;
    return source_has(source_json, kDesiredRevision) ? Channel::desired : Channel::mqtt;
}

std::string installed_how(Channel channel) {
    switch (channel) {
        case Channel::dropin:
            return "from the drop-in directory";
        case Channel::desired:
            return "by the desired state";
        case Channel::mqtt:
            break;
    }
    return "over MQTT";
}

fs::path dropin_file_of_source(const std::string& source_json) {
    if (channel_of_source(source_json) != Channel::dropin) return {};
    return source_field(source_json, "path");
}

std::optional<std::string> dropin_yields_to(const registry::Entry& installed,
                                            const std::string& file_version, const fs::path& file) {
    const auto theirs = registry::Version::parse(installed.version);
    const auto ours = registry::Version::parse(file_version);
    const std::string ignored = "drop-in " + file.string() + " ignored: " + installed.component_id;
    if (owner_of(installed) == Channel::dropin) {
        // The same version again is the directory's own business (a rebuilt file): the
        // pipeline reinstalls it or finds it installed already.
        if (!theirs || !ours || !(*ours < *theirs)) return std::nullopt;
        return ignored + " runs version " + installed.version + " from the drop-in file " +
               dropin_file_of(installed).string() + "; an older drop-in file does not downgrade it";
    }
    // A version that cannot be compared never takes anything over.
    if (theirs && ours && *ours > *theirs) return std::nullopt;
    return ignored + " was installed " + installed_how(owner_of(installed)) + " at version " +
           installed.version + "; a drop-in file takes it over only with a newer version";
}

Status move_dropin_aside(const fs::path& file, const std::string& suffix) {
    std::string error;
    for (const fs::path& from : {file, fs::path(file.string() + ".sig")}) {
        if (!exists_or_dangles(from)) continue;
        const fs::path to = from.parent_path() / ("." + from.filename().string() + "." + suffix);
        std::error_code ec;
        fs::rename(from, to, ec);
        if (ec && error.empty()) {
            error =
                "cannot move " + from.string() + " aside to " + to.string() + ": " + ec.message();
        }
    }
    if (!error.empty()) return Error{Errc::io, error};
    return done();
}

}  // namespace lucid::host::components
