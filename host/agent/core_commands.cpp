#include "agent/core_commands.hpp"

#include "agent/config_change_text.hpp"
#include "common/logging.hpp"

namespace lucid::host::agent {

using commands::CommandHandler;
using commands::CommandReply;
using commands::CommandSpec;
using commands::Durability;
using commands::Lane;
namespace {

using contract::Clock;
using contract::CommandRequest;
using contract::Result;

CommandReply ping(const CommandRequest& request) {
    // Idempotent: its dedup record need not cost an fsync.
    return CommandReply(Result(request.request_id, Clock::now()), Durability::deferred);
}

CommandReply refresh(CoreCommandTarget& target, const CommandRequest& request) {
    const std::vector<std::string> published = target.republish_snapshots();
    Result result(request.request_id, Clock::now());
    // A list of names, as the earlier agent answered (contract §4.7), not a count.
    rapidjson::Value names(rapidjson::kArrayType);
    for (const auto& name : published) {
        names.PushBack(rapidjson::Value(name.c_str(), static_cast<rapidjson::SizeType>(name.size()),
                                        result.allocator()),
                       result.allocator());
    }
    result.set("snapshots_updated", names);
    return CommandReply(std::move(result), Durability::deferred);
}

CommandReply cfg_set(CoreCommandTarget& target, const std::string& result_topic,
                     const CommandRequest& request) {
    Result result(request.request_id, Clock::now());
    const auto current = target.current_config();
    const auto checked = apply_cfg_set(current, request.payload);
    if (!checked.config) {
        result.fail(checked.error);
        return CommandReply(std::move(result));
    }
    // The answer is built before the change is saved: it is journaled with the config, one
    // record and one fdatasync for both (dedup_store.hpp); the dispatcher then finds it
    // recorded and only publishes it.
    result.set("applied", request.payload["set"]);
    rapidjson::Value cfg(rapidjson::kObjectType);
    write_core_config(*checked.config, cfg, result.allocator());
    result.set("cfg", cfg);
    result.set("telemetry_supported", contract::kTelemetrySupported);
    try {
        target.apply_config(*checked.config,
                            commands::DedupEntry{request.request_id, {result_topic, result.str()}});
    } catch (const std::exception& e) {
        Result failed(request.request_id, Clock::now());
        failed.fail(std::string("cannot save config: ") + e.what());
        return CommandReply(std::move(failed));
    }
    // Every setting that changed, whichever it is (labels, telemetry.metrics..., logs_...).
    const std::string changed = config_change_text(current, *checked.config);
    logger("commands")->info("cfg/set applied: {}", changed.empty() ? "nothing changed" : changed);
    return CommandReply(std::move(result));
}

CommandReply restart(CoreCommandTarget& target, const RestartSettings& settings,
                     const CommandRequest& request) {
    const auto now = Clock::now();
    Result result(request.request_id, now);
    const auto last = settings.record ? settings.record->last() : std::nullopt;
    if (Status allowed = commands::restart_refusal(settings.supervised, last, now); !allowed) {
        result.fail(allowed.error().message);
        return CommandReply(std::move(result));
    }
    if (settings.record) {
        try {
            settings.record->save(now);
        } catch (const std::exception& e) {
            // Without the record the 10 s rule could not hold across the restart.
            result.fail(std::string("cannot record restart time: ") + e.what());
            return CommandReply(std::move(result));
        }
    }
    CommandReply reply(std::move(result));
    reply.after_delivery = [&target] {
        logger("commands")
            ->info("restart requested; exiting with code {}", commands::kRestartExitCode);
        target.request_exit(commands::kRestartExitCode);
    };
    return reply;
}

CommandSpec spec(const contract::AgentTopics& topics, const contract::topics::CommandTopics& t,
                 CommandHandler handler) {
    return CommandSpec{std::string(t.name), topics.at(t.command), topics.at(t.result), Lane::fast,
                       std::move(handler)};
}

}  // namespace

std::vector<CommandSpec> core_command_specs(const contract::AgentTopics& topics,
                                            CoreCommandTarget& target, RestartSettings restart_s) {
    namespace t = contract::topics;
    std::vector<CommandSpec> specs;
    specs.push_back(spec(topics, t::kPing, ping));
    specs.push_back(spec(topics, t::kRefresh,
                         [&target](const CommandRequest& rq) { return refresh(target, rq); }));
    specs.push_back(
        spec(topics, t::kCfgSet,
             [&target, result_topic = topics.at(t::kCfgSet.result)](const CommandRequest& rq) {
                 return cfg_set(target, result_topic, rq);
             }));
    specs.push_back(spec(topics, t::kRestart, [&target, restart_s](const CommandRequest& rq) {
        return restart(target, restart_s, rq);
    }));
    return specs;
}

}  // namespace lucid::host::agent
