// The agent's own builds' state file (self_update/agent_versions.hpp): {data}/agent/state.json,
// which the launcher reads before it execs a build and which the agent's own user can write.
//
// What must hold for any input:
//   - the parser returns a state or an error, never a crash;
//   - every version in a parsed state is a semantic version (so none names a path);
//   - a parsed state is written back to a text that parses to the same state, and writing that
//     again gives the same text.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "lucid/registry/semver.hpp"
#include "self_update/agent_versions.hpp"

namespace {

void check(bool condition) {
    if (!condition) __builtin_trap();
}

bool semver(const std::optional<std::string>& v) {
    return !v || lucid::registry::Version::parse(*v).has_value();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace lucid::host::self_update;
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const auto parsed = parse_agent_versions(input);
    if (!parsed) {
        check(!parsed.error().message.empty());
        return 0;
    }
    const AgentVersions& s = parsed.value();
    check(semver(s.committed) && semver(s.previous));
    check(!s.pending || semver(s.pending->version));
    check(!s.last_upgrade || semver(s.last_upgrade->version));
    const std::string text = agent_versions_json(s);
    const auto again = parse_agent_versions(text);
    check(again.ok() && again.value() == s);
    check(agent_versions_json(again.value()) == text);
    return 0;
}
