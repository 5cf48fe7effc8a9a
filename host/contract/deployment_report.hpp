// What an agent did with its desired state (contract §4.11): the retained `core/deployment`
// snapshot, and the same document persisted in the data directory ({data}/deployment.json) so
// that a restarted agent knows which revision it applied and resumes one it had not finished.
//
//   {"schema": 1, "ts": "...", "revision": 7, "state": "converged", "platform": "linux_x86_64",
//    "digest": "<sha256 of the document>", "updated_at": "...",
//    "components": {"cpu": {"action": "upgrade", "version": "1.2.0", "outcome": "applied",
//                           "error": null}},
//    "agent": {"action": "upgrade", "version": "0.3.0", "outcome": "applied", "error": null},
//    "rejected": null}
//
// Thread: pure functions. Errors: parse_deployment returns Expected; nothing throws.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "common/expected.hpp"
#include "contract/timestamp.hpp"

namespace lucid::host::contract {

namespace deployment_state {
inline constexpr std::string_view kNone = "none";  // no desired state was ever applied
inline constexpr std::string_view kApplying = "applying";
inline constexpr std::string_view kConverged = "converged";
inline constexpr std::string_view kFailed = "failed";
}  // namespace deployment_state

namespace deployment_outcome {
inline constexpr std::string_view kPending = "pending";      // not done yet
inline constexpr std::string_view kApplied = "applied";      // changed and succeeded
inline constexpr std::string_view kUnchanged = "unchanged";  // it was so already
inline constexpr std::string_view kFailed = "failed";        // `error` says why
}  // namespace deployment_outcome

struct DeploymentComponent {
    // install | upgrade | downgrade | remove | enable | disable | configure | none
    std::string action;
    std::string version;  // the version wanted ("" for a removal)
    std::string outcome = std::string(deployment_outcome::kPending);
    std::string error;  // "" → null
};

struct Deployment {
    std::optional<std::uint64_t> revision;  // the revision applied or being applied
    std::string state = std::string(deployment_state::kNone);
    std::string platform;  // the agent's build target: which artifact it picks
    std::string digest;    // sha256 (hex) of the document's bytes
    std::optional<Clock::time_point> updated_at;
    std::map<std::string, DeploymentComponent> components;
    // The agent's own step when the document has an `agent` (action upgrade, downgrade or none;
    // `pending` while the new build is handed over to); none: the document has no agent entry.
    std::optional<DeploymentComponent> agent;
    // The last document refused (invalid, or a revision lower than the applied one); it changed
    // nothing. Cleared by the next document applied.
    struct Rejected {
        std::optional<std::uint64_t> revision;  // none when the document had no valid one
        std::string error;
    };
    std::optional<Rejected> rejected;
};

std::string deployment_payload(const Deployment& deployment, Clock::time_point now);
// Reads what deployment_payload wrote (the persisted file, or core/deployment in lucidctl).
Expected<Deployment> parse_deployment(std::string_view text);

}  // namespace lucid::host::contract
