// A staged rollout (contract §4.12), the pure part: how the selected agents are cut into a canary
// and batches, when failures stop it, what desired document each agent gets, and the rollout's
// state as it is kept retained on `{fleet}/rollouts/{id}` (so that `rollout resume` continues it
// from any machine).
//
//   auto batches = plan_batches(ids, 1, "25%");         // canary of 1, then quarters
//   auto doc = compose_desired(previous, "echo", "2.0.0", artifacts, 8);
//
// Thread: pure functions. Errors: Expected (the text a usage error shows); nothing throws.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/expected.hpp"

namespace lucid::host::ctl {

// "N" or "P%" (of `total`), at least 1 for a batch size. Errors: "--batch must be N or P%, got
// 'x'".
Expected<std::size_t> parse_count(const std::string& text, std::size_t total, const char* option,
                                  bool at_least_one);

// The canary (the first `canary` ids) then batches of `batch` ids, in the order given.
std::vector<std::vector<std::string>> plan_batches(const std::vector<std::string>& ids,
                                                   std::size_t canary, std::size_t batch);

// The desired document an agent gets: its `previous` one (when it is a readable document) with
// `component` set to `version` and `artifacts` (its `enabled` and `config` kept), or, with
// `whole` given, that document; `revision` in either case, and `rollout` (the rollout's id, which
// the agent's version floors hold a raise for, contract §8.12) when given. JSON text.
std::string compose_desired(const std::optional<std::string>& previous,
                            const std::string& component, const std::string& version,
                            const std::string& artifacts_json,
                            const std::optional<std::string>& whole, std::uint64_t revision,
                            const std::string& rollout = "");

// The previous document again under a new revision (a rollback), or nullopt when `previous` is
// not a readable document. With `rollback_of` (the rollout being undone) it says so instead of
// naming a rollout of its own: the agent may then go back below that rollout's raise.
std::optional<std::string> with_revision(const std::string& document, std::uint64_t revision,
                                         const std::string& rollback_of = "");

namespace rollout_agent {
inline constexpr const char* kWaiting = "waiting";      // its batch has not come
inline constexpr const char* kApplying = "applying";    // written, the agent is online
inline constexpr const char* kPending = "pending";      // written while it was offline
inline constexpr const char* kConverged = "converged";  // done
inline constexpr const char* kFailed = "failed";        // failed or refused (error says why)
inline constexpr const char* kTimeout = "timeout";      // no answer within the batch's time
inline constexpr const char* kSkipped = "skipped";      // no artifact for its platform
}  // namespace rollout_agent

struct RolloutAgent {
    std::size_t batch = 0;
    std::string platform;
    std::string state = rollout_agent::kWaiting;
    std::string from;  // the version it ran before ("" when it had none)
    std::uint64_t revision = 0;
    std::string digest;                   // sha256 of the document written
    std::optional<std::string> previous;  // its desired document before the rollout
    std::string error;                    // why it failed, then what its rollback did
    bool rolled_back = false;             // given its previous document back
};

// The whole rollout, as kept retained. `state`: running, paused, converged, pending (finished
// but some agents never came back), failed (a failure threshold crossed), aborted.
struct Rollout {
    std::string id;
    std::string state = "running";
    std::string created_at;
    std::string updated_at;
    std::string selector;
    std::string component;  // "" for a whole-document rollout
    std::string version;
    std::string artifacts_json = "{}";    // platform → {"source": …}
    std::optional<std::string> document;  // a whole-document rollout's document
    std::size_t canary = 1;
    std::size_t batch_size = 1;
    std::size_t max_failures = 0;
    std::uint64_t timeout_s = 600;
    bool rollback = true;
    std::vector<std::vector<std::string>> batches;
    std::size_t next_batch = 0;  // the first batch not finished
    std::map<std::string, RolloutAgent> agents;

    std::size_t failures() const;
    std::size_t count(const std::string& state) const;
    std::size_t rolled_back() const;
    bool active() const { return state == "running" || state == "paused"; }
};

std::string rollout_json(const Rollout& rollout);
Expected<Rollout> parse_rollout(const std::string& text);

}  // namespace lucid::host::ctl
