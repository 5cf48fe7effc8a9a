#include "agent/upgrade_command.hpp"

#include "commands/restart_policy.hpp"
#include "common/logging.hpp"
#include "components/progress_publisher.hpp"
#include "install/broker_fetch.hpp"
#include "lucid/registry/semver.hpp"
#include "self_update/agent_versions.hpp"
#include "self_update/build_placement.hpp"
#include "self_update/upgrade_request.hpp"

namespace lucid::host::agent {

using commands::CommandReply;
using contract::Clock;
using contract::CommandRequest;
using contract::Result;
namespace su = self_update;

namespace {

// Why this agent takes no upgrade now, or "".
std::string refusal(const Agent& agent, const su::UpgradeRequest& request, bool supervised) {
    if (!supervised) return "not supervised";
    const std::string& own = agent.config().version;
    auto state = su::load_agent_versions(agent.config().data_dir);
    if (!state) return "upgrade refused: " + state.error().message;
    if (const auto& pending = state.value().pending) {
        return "upgrade refused: " + pending->version + " is pending (request " +
               pending->request_id + ") and has not committed yet";
    }
    const auto wanted = registry::Version::parse(request.version);
    const auto running = registry::Version::parse(own);
    if (wanted && running && !(*wanted > *running)) {
        return "upgrade refused: " + request.version + " is not newer than the running " + own;
    }
    return "";
}

// The progress that says this request was handed over to another build (no result now).
std::pair<std::string, std::string> handover(const Agent& agent, const std::string& request_id) {
    return {agent.topics().at(contract::topics::kUpgradeProgress),
            contract::install_progress_payload(request_id, "handover", 0, 0, Clock::now())};
}

// A copy of a request that was handed over, while its final result is not out yet: it gets the
// handover again, not a second result (the build that ends up running gives the one result).
bool handed_over(const Agent& agent, const std::string& request_id) {
    const auto state = su::load_agent_versions(agent.config().data_dir);
    if (!state) return false;
    const auto& s = state.value();
    return (s.pending && s.pending->request_id == request_id) ||
           (s.last_upgrade && !s.last_upgrade->reported &&
            s.last_upgrade->request_id == request_id);
}

CommandReply upgrade(Agent& agent, const UpgradeCommandSettings& settings,
                     const CommandRequest& rq) {
    Result result(rq.request_id, Clock::now());
    if (su::is_desired_upgrade_id(rq.request_id)) {
        // Such an id names a desired state's update in state.json (self_update/upgrade_request).
        result.fail("validation_error: request_id '" + rq.request_id +
                    "' is the desired state's; use another");
        result.set("version", rapidjson::Value());
        result.set("noop", false);
        result.set("rolled_back", false);
        return CommandReply(std::move(result));
    }
    if (handed_over(agent, rq.request_id)) {
        CommandReply reply(std::move(result));
        reply.instead = handover(agent, rq.request_id);
        return reply;
    }
    auto parsed = su::parse_upgrade_request(rq.payload, settings.install());
    if (!parsed.request) {
        result.fail(parsed.error);
        result.set("version", rapidjson::Value());  // not known: null
        result.set("noop", false);
        result.set("rolled_back", false);
        return CommandReply(std::move(result));
    }
    const su::UpgradeRequest& request = *parsed.request;
    const bool noop = request.version == agent.config().version;
    result.set("version", request.version);
    result.set("noop", noop);
    result.set("rolled_back", false);
    if (noop) return CommandReply(std::move(result));
    const std::string progress_topic = agent.topics().at(contract::topics::kUpgradeProgress);
    components::ProgressPublisher progress(agent.session(), progress_topic, rq.request_id);
    auto log = logger("upgrade");
    if (Status placed = place_upgrade(agent, settings, request, rq.request_id, std::ref(progress));
        !placed) {
        result.fail(placed.error().message);
        return CommandReply(std::move(result));
    }
    log->info("lucid-agent {} placed as pending; handing over (exit {})", request.version,
              commands::kRestartExitCode);
    CommandReply reply(std::move(result));
    reply.instead = handover(agent, rq.request_id);
    reply.after_delivery = [exit = settings.exit] { exit(commands::kRestartExitCode); };
    return reply;
}

}  // namespace

Status place_upgrade(Agent& agent, const UpgradeCommandSettings& settings,
                     su::UpgradeRequest request, const std::string& request_id,
                     const install::ProgressFn& progress,
                     const std::shared_ptr<std::atomic<bool>>& cancelled) {
    if (const std::string why = refusal(agent, request, settings.supervised); !why.empty()) {
        return Error{Errc::invalid, why};
    }
    su::PlacementSettings placement;
    placement.data_dir = agent.config().data_dir;
    placement.verifier = settings.verifier();
    placement.runner = settings.runner;
    if (cancelled) placement.verifier.limits.cancelled = cancelled;
    auto log = logger("upgrade");
    log->info("upgrade to lucid-agent {} (request '{}'): fetching and verifying", request.version,
              request_id);
    if (request.source.type == install::SourceType::broker) {
        if (Status fetched = install::fetch_from_broker(
                request.source, {agent.router(), agent.session(), agent.config().data_dir},
                placement.verifier.limits, progress);
            !fetched) {
            log->warn("upgrade to {} refused: {}", request.version, fetched.error().message);
            return fetched;
        }
    }
    if (Status placed = su::place_build(request, request_id, placement, progress); !placed) {
        log->warn("upgrade to {} refused: {}", request.version, placed.error().message);
        return placed;
    }
    return done();
}

void add_upgrade_command(Agent& agent, UpgradeCommandSettings settings) {
    const auto& topics = agent.topics();
    const std::string topic = topics.at(contract::topics::kUpgrade.command);
    agent.dispatcher().add(commands::CommandSpec{
        "upgrade", topic, topics.at(contract::topics::kUpgrade.result), commands::Lane::slow,
        [&agent, settings = std::move(settings)](const CommandRequest& rq) {
            return upgrade(agent, settings, rq);
        }});
    agent.router().add(topic, agent.dispatcher().route(topic));
    agent.session().subscribe(topic, 1);
}

}  // namespace lucid::host::agent
