// {data}/agent/state.json: the self-updated builds of the agent and which one runs next
// (contract §8.15). The launcher (the packaged lucid-agent) reads it before it execs anything and
// counts a pending build's start attempt in it; the build that runs commits itself in it, and
// reports the outcome of the upgrade from it.
//
//   {"committed":"0.2.0","previous":"0.1.0",
//    "pending":{"version":"0.3.0","attempts":0,"allowed":1,"request_id":"up-7"},
//    "last_upgrade":{"version":"0.2.0","outcome":"committed","reason":"","ts":"…",
//                    "request_id":"up-6","reported":true}}
//
// Every version is a semantic version (registry/semver.hpp), so that a version never names a
// path outside {data}/agent/. Thread: pure functions, plus load/save of the file. Errors: parse
// returns the reason; load/save throw std::system_error naming the file.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "common/expected.hpp"

namespace lucid::host::self_update {

// A build waiting for its first healthy start.
struct PendingVersion {
    std::string version;
    int attempts = 0;        // starts the launcher has made of it
    int allowed = 1;         // starts it gets before the launcher rolls it back
    std::string request_id;  // the upgrade command that placed it ("" from none)

    bool operator==(const PendingVersion& o) const {
        return version == o.version && attempts == o.attempts && allowed == o.allowed &&
               request_id == o.request_id;
    }
};

// How the last upgrade ended; `reported` once its upgrade_result was published.
struct LastUpgrade {
    std::string version;
    std::string outcome;  // kCommitted or kRolledBack
    std::string reason;   // why it was rolled back; "" when committed
    std::string ts;       // contract §3.1
    std::string request_id;
    bool reported = false;

    bool operator==(const LastUpgrade& o) const {
        return version == o.version && outcome == o.outcome && reason == o.reason && ts == o.ts &&
               request_id == o.request_id && reported == o.reported;
    }
};

inline constexpr std::string_view kCommitted = "committed";
inline constexpr std::string_view kRolledBack = "rolled_back";

struct AgentVersions {
    std::optional<std::string> committed;  // the newest build that came up healthy
    std::optional<std::string> previous;   // the one before it, kept for one more rollback
    std::optional<PendingVersion> pending;
    std::optional<LastUpgrade> last_upgrade;

    bool operator==(const AgentVersions& o) const {
        return committed == o.committed && previous == o.previous && pending == o.pending &&
               last_upgrade == o.last_upgrade;
    }
};

// Strict: an object with only these members, each of its type; versions must be semver.
Expected<AgentVersions> parse_agent_versions(std::string_view json);
std::string agent_versions_json(const AgentVersions& versions);

// {data}/agent, {data}/agent/state.json, {data}/agent/{version}/lucid-agent.
std::filesystem::path versions_dir(const std::filesystem::path& data_dir);
std::filesystem::path state_path(const std::filesystem::path& data_dir);
std::filesystem::path version_dir(const std::filesystem::path& data_dir,
                                  const std::string& version);
std::filesystem::path version_binary(const std::filesystem::path& data_dir,
                                     const std::string& version);

// The state: {} when there is no file; an error (naming the file) when it cannot be read or
// does not parse.
Expected<AgentVersions> load_agent_versions(const std::filesystem::path& data_dir);
// Atomic and durable (common/atomic_file.hpp): the launcher's attempt count must be on disk
// before it execs the build, or a build that takes the machine down would be started forever.
void save_agent_versions(const std::filesystem::path& data_dir, const AgentVersions& versions);

}  // namespace lucid::host::self_update
