// The agent's desired state (contract §4.11): the retained document on `{root}/{agent_id}/desired`
// reconciled through the components' own pipeline (desired_target.hpp), and what came of it
// reported on the retained `core/deployment` (contract/deployment_report.hpp).
//
//   DesiredState desired({data_dir / "deployment.json", "linux_x86_64"}, target, publish);
//   desired.offer(payload);   // network thread: the retained message arrived
//   desired.apply_offered();  // its lane: applies the latest document offered
//
// The rules, each for a reason an operator of many devices has:
//  - A revision is applied once. The broker hands the retained document over again at every
//    reconnect; a document whose revision and bytes were applied already (converged or failed)
//    changes nothing, so a failing install is not retried in a loop. Publishing a higher revision
//    applies it again.
//  - A revision lower than the one applied is ignored and reported (`rejected`): a stale copy
//    (a bridge, a restored broker) must not downgrade the device. The applied revision survives
//    restarts ({data}/deployment.json) and an empty document.
//  - The same revision with other bytes is refused: what "revision 7" means must not depend on
//    when an agent looked.
//  - An agent restarted mid-apply (state `applying` persisted: killed, or stopped, which
//    interrupts the apply) applies that revision again when the document arrives; the steps
//    done already are found done (`unchanged`). A newer document interrupts an apply too.
//  - An invalid document — unreadable, or an install it asks for that the pipeline would refuse
//    before downloading — changes nothing and is reported with its exact error. A component
//    without an artifact for this agent's platform fails alone, the others are applied.
//  - An empty document means "no desired state": what runs stays (state `none`).
//  - The agent itself (`agent`) first, when its version differs from the running one: the
//    self-update (agent_target.hpp) hands over to the new build, which applies the same revision
//    again (resumed) and finds its own version; after a rollback the old build finds the update
//    rolled back and fails that step. Once per revision, like every step.
//  - Order: removals first (`remove`, and with `exclusive` every installed component the
//    document does not list), then each listed component in id order: install or change of
//    version (with the document's config), enable/disable, then the config.
//
// Thread: offer() from any thread; apply_offered() and payload() from one lane (payload() from
// any thread). Errors: reported, never thrown (a state file that cannot be written is logged).
#pragma once

#include <atomic>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <string>

#include "contract/deployment_report.hpp"
#include "contract/desired_document.hpp"
#include "fleet/agent_target.hpp"
#include "fleet/desired_target.hpp"

namespace lucid::host::fleet {

struct DesiredStateSettings {
    std::filesystem::path state_file;  // {data}/deployment.json
    std::string platform;              // the build target whose artifacts this agent takes
};

class DesiredState {
  public:
    // `publish`: the core/deployment payload, to be published retained.
    using PublishFn = std::function<void(const std::string& payload)>;
    DesiredState(DesiredStateSettings settings, DesiredTarget& target, PublishFn publish);
    // How the agent updates itself (a document's `agent`); none set: that step fails ("this
    // agent cannot update itself here"). Set before the first offer().
    void set_agent_target(AgentTarget* agent) { agent_ = agent; }

    // The retained document arrived; only the latest offered is applied. An apply under way
    // gives up at its next step (a download under way is cancelled): the newer one follows.
    void offer(std::string payload);
    // The agent stops: an apply under way gives up, its revision stays `applying` and is applied
    // again at the next start.
    void interrupt();
    // Applies the document offered last, if any was offered since the previous call.
    void apply_offered();
    // The current core/deployment payload.
    std::string payload() const;
    // A problem found loading the state file at start ("" when none), for the log.
    const std::string& load_problem() const { return load_problem_; }

  private:
    void apply(const std::string& payload);
    void reject(std::optional<std::uint64_t> revision, const std::string& error);
    void reconcile(const contract::DesiredDocument& doc);
    // The action on one listed component and whether it succeeded.
    contract::DeploymentComponent converge(const contract::DesiredDocument& doc,
                                           const std::string& id,
                                           const contract::DesiredComponent& wanted);
    // The agent's own step (first, before the components: the build that will run them installs
    // them). Sets `handed_over` when this process is to end for the new build.
    contract::DeploymentComponent converge_agent(const contract::DesiredDocument& doc,
                                                 bool& handed_over);
    // Persists and publishes the report as it is now.
    void report();

    const DesiredStateSettings settings_;
    DesiredTarget& target_;
    const PublishFn publish_;
    AgentTarget* agent_ = nullptr;
    std::string load_problem_;

    mutable std::mutex mutex_;  // guards the members below
    std::optional<std::string> offered_;
    std::optional<std::string> applying_;  // the document apply_offered() is applying now
    contract::Deployment deployment_;
    // Set by offer() and interrupt(); cleared when an apply starts.
    std::shared_ptr<std::atomic<bool>> interrupted_ = std::make_shared<std::atomic<bool>>(false);
};

}  // namespace lucid::host::fleet
