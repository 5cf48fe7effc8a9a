// Where the state and the builds are, and the state file's load and save
// (self_update/agent_versions.hpp); the parser is agent_versions.cpp (pure, fuzzed).
#include <system_error>

#include "common/atomic_file.hpp"
#include "common/file_modes.hpp"
#include "self_update/agent_versions.hpp"

namespace lucid::host::self_update {
namespace fs = std::filesystem;

fs::path versions_dir(const fs::path& data_dir) { return data_dir / "agent"; }
fs::path state_path(const fs::path& data_dir) { return versions_dir(data_dir) / "state.json"; }
fs::path version_dir(const fs::path& data_dir, const std::string& version) {
    return versions_dir(data_dir) / version;
}
fs::path version_binary(const fs::path& data_dir, const std::string& version) {
    return version_dir(data_dir, version) / "lucid-agent";
}

Expected<AgentVersions> load_agent_versions(const fs::path& data_dir) {
    const fs::path path = state_path(data_dir);
    std::error_code ec;
    if (!fs::exists(path, ec) && !ec) return AgentVersions{};
    std::string text;
    try {
        text = read_file(path);
    } catch (const std::exception& e) {
        return Error{Errc::io, e.what()};
    }
    auto parsed = parse_agent_versions(text);
    if (!parsed) return Error{Errc::invalid, path.string() + ": " + parsed.error().message};
    return parsed;
}

void save_agent_versions(const fs::path& data_dir, const AgentVersions& versions) {
    make_directories(versions_dir(data_dir), kDataDirMode);
    write_file_atomically(state_path(data_dir), agent_versions_json(versions));
}

}  // namespace lucid::host::self_update
