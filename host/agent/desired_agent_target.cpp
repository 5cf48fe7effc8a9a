#include "agent/desired_agent_target.hpp"

#include <rapidjson/document.h>

#include "commands/restart_policy.hpp"
#include "common/logging.hpp"
#include "self_update/agent_versions.hpp"

namespace lucid::host::agent {
namespace su = self_update;

DesiredAgentTarget::DesiredAgentTarget(Agent& agent, SelfUpgrade& self_upgrade,
                                       UpgradeCommandSettings settings)
    : agent_(agent), self_upgrade_(self_upgrade), settings_(std::move(settings)) {}

std::string DesiredAgentTarget::version() const { return agent_.config().version; }

Expected<su::UpgradeRequest> DesiredAgentTarget::request_of(
    const fleet::DesiredAgentStep& step) const {
    // The command's payload, so that the source is read by the command's own parser.
    rapidjson::Document payload(rapidjson::kObjectType);
    auto& a = payload.GetAllocator();
    rapidjson::Document source(&a);
    source.Parse(step.source_json.c_str(), step.source_json.size());
    if (source.HasParseError()) return Error{Errc::invalid, "validation_error: invalid source"};
    payload.AddMember("version", rapidjson::Value(step.version, a), a);
    payload.AddMember("source", rapidjson::Value(source, a), a);
    auto parsed = su::parse_upgrade_request(payload, settings_.install());
    if (!parsed.request) return Error{Errc::invalid, parsed.error};
    return std::move(*parsed.request);
}

Status DesiredAgentTarget::check_update(const fleet::DesiredAgentStep& step) const {
    auto request = request_of(step);
    if (!request) return request.error();
    return done();
}

fleet::AgentUpdateRecord DesiredAgentTarget::record(const fleet::DesiredAgentStep& step) const {
    const auto state = su::load_agent_versions(agent_.config().data_dir);
    if (!state) return {};
    const std::string id = su::desired_upgrade_id(step.revision);
    const auto& s = state.value();
    if (s.pending && s.pending->request_id == id && s.pending->version == step.version) {
        return {fleet::AgentUpdate::pending, ""};
    }
    if (s.last_upgrade && s.last_upgrade->request_id == id &&
        s.last_upgrade->version == step.version) {
        if (s.last_upgrade->outcome == su::kCommitted) return {fleet::AgentUpdate::committed, ""};
        return {fleet::AgentUpdate::rolled_back, s.last_upgrade->reason};
    }
    return {};
}

Status DesiredAgentTarget::await_commit(const fleet::DesiredAgentStep& step) {
    // Its whole commit window and a margin: a build that does not commit in it exits anyway.
    const auto bound = agent_.config().upgrade_commit + std::chrono::seconds(5);
    if (self_upgrade_.await_commit(bound, step.cancelled)) return done();
    return Error{Errc::cancelled, "lucid-agent " + step.version + " did not commit itself"};
}

Status DesiredAgentTarget::place(const fleet::DesiredAgentStep& step) {
    auto request = request_of(step);
    if (!request) return request.error();
    // No progress topic: a desired state's steps are reported on core/deployment.
    return place_upgrade(agent_, settings_, std::move(request.value()),
                         su::desired_upgrade_id(step.revision), nullptr, step.cancelled);
}

void DesiredAgentTarget::hand_over() {
    logger("upgrade")->info(
        "lucid-agent placed as pending for the desired state; handing over "
        "(exit {})",
        commands::kRestartExitCode);
    settings_.exit(commands::kRestartExitCode);
}

}  // namespace lucid::host::agent
