#include "agent/self_upgrade.hpp"

#include "common/logging.hpp"
#include "self_update/upgrade_request.hpp"

namespace lucid::host::agent {

namespace su = self_update;

namespace {

constexpr std::chrono::milliseconds kDeliveryTimeout{5000};

std::optional<contract::LastUpgradeInfo> status_info(const su::AgentVersions& state) {
    if (!state.last_upgrade) return std::nullopt;
    const auto& l = *state.last_upgrade;
    return contract::LastUpgradeInfo{l.version, l.outcome, l.reason, l.ts};
}

}  // namespace

SelfUpgrade::SelfUpgrade(Agent& agent, std::function<void(int)> exit) : agent_(agent) {
    window_ = su::CommitWindow::start_if_pending(
        agent.config().data_dir, agent.config().version, agent.config().upgrade_commit,
        [exit = std::move(exit)](const std::string&) { exit(kNotCommittedExit); });
    // Pending: the request log in the format of the release a rollback would return to.
    if (window_) agent.request_log().set_whole_writes(true);
    refresh_status();
}

SelfUpgrade::~SelfUpgrade() = default;

su::AgentVersions SelfUpgrade::refresh_status() {
    auto state = su::load_agent_versions(agent_.config().data_dir);
    if (!state) {
        logger("agent")->warn("last upgrade unknown: {}", state.error().message);
        return {};
    }
    agent_.snapshots().set_last_upgrade(status_info(state.value()));
    return state.value();
}

void SelfUpgrade::online() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!agent_.session().connected()) return;
    const bool committed = window_ && window_->healthy();
    if (committed) {
        window_.reset();
        agent_.request_log().set_whole_writes(false);
        committed_.notify_all();
    }
    const auto state = refresh_status();
    if (committed) agent_.snapshots().publish_status();  // with last_upgrade: committed
    if (state.last_upgrade && !state.last_upgrade->reported) report(*state.last_upgrade);
}

bool SelfUpgrade::await_commit(std::chrono::milliseconds timeout,
                               const std::shared_ptr<std::atomic<bool>>& cancelled) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::unique_lock<std::mutex> lock(mutex_);
    // The cancel flag cannot wake a condition variable: it is looked at every 200 ms.
    while (window_) {
        if (cancelled && cancelled->load()) return false;
        if (std::chrono::steady_clock::now() >= deadline) return false;
        committed_.wait_for(lock, std::chrono::milliseconds(200));
    }
    return true;
}

void SelfUpgrade::report(const su::LastUpgrade& last) {
    const auto& data_dir = agent_.config().data_dir;
    // An update a desired state asked for is reported on core/deployment (contract §4.11).
    if (!last.request_id.empty() && !su::is_desired_upgrade_id(last.request_id)) {
        contract::Result result(last.request_id, contract::Clock::now());
        const bool committed = last.outcome == su::kCommitted;
        if (!committed) result.fail("upgrade rolled back: " + last.reason);
        result.set("version", last.version);
        result.set("noop", false);
        result.set("rolled_back", !committed);
        const std::string topic = agent_.topics().at(contract::topics::kUpgrade.result);
        const std::string payload = result.str();
        try {
            agent_.request_log().record(last.request_id, {topic, payload},
                                        commands::Durability::immediate);
        } catch (const std::exception& e) {
            logger("agent")->warn("upgrade result not recorded: {}", e.what());
        }
        const auto mid = agent_.session().publish(topic, payload, 1, false);
        if (!mid.ok() || !agent_.session().wait_delivered(mid.value(), kDeliveryTimeout)) {
            return;  // told at the next connect
        }
    }
    // Once: the build that runs next (or this one after a reconnect) does not say it again.
    auto state = su::load_agent_versions(data_dir);
    if (!state || !state.value().last_upgrade || !(*state.value().last_upgrade == last)) return;
    state.value().last_upgrade->reported = true;
    try {
        su::save_agent_versions(data_dir, state.value());
    } catch (const std::exception& e) {
        logger("agent")->warn("cannot mark the upgrade result reported: {}", e.what());
    }
    logger("agent")->info("upgrade to {} {}{}", last.version, last.outcome,
                          last.reason.empty() ? "" : ": " + last.reason);
}

}  // namespace lucid::host::agent
