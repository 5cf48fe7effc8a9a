#include "agent/log_commands.hpp"

#include <memory>

#include "agent/log_requests.hpp"
#include "common/log_levels.hpp"
#include "common/logging.hpp"
#include "contract/timestamp.hpp"
#include "lucid/registry/identifiers.hpp"

namespace lucid::host::agent {

using commands::CommandReply;
using commands::CommandSpec;
using commands::Durability;
using commands::Lane;
using contract::Clock;
using contract::CommandRequest;
using contract::Result;
namespace {

rapidjson::Value text(std::string_view s, rapidjson::Document::AllocatorType& a) {
    return rapidjson::Value(s.data(), static_cast<rapidjson::SizeType>(s.size()), a);
}

CommandReply logs_get(LogTap& tap, const CommandRequest& request) {
    Result result(request.request_id, Clock::now());
    const auto parsed = parse_logs_get(request.payload);
    if (!parsed.error.empty()) {
        result.fail(parsed.error);
        return CommandReply(std::move(result), Durability::deferred);
    }
    auto& a = result.allocator();
    rapidjson::Value lines(rapidjson::kArrayType);
    for (const auto& line : tap.kept(parsed.n, parsed.level, parsed.component)) {
        rapidjson::Value item(rapidjson::kObjectType);
        item.AddMember("ts", text(contract::utc_timestamp(line.ts), a), a);
        item.AddMember("level", text(stream_level_name(line.level), a), a);
        item.AddMember("logger", text(line.logger, a), a);
        item.AddMember("message", text(line.message, a), a);
        lines.PushBack(item, a);
    }
    result.set("lines", lines);
    // Reading changes nothing: its record need not cost an fsync.
    return CommandReply(std::move(result), Durability::deferred);
}

CommandReply logs_stream(LogStream& stream, const CommandRequest& request) {
    Result result(request.request_id, Clock::now());
    const auto parsed = parse_logs_stream(request.payload);
    if (!parsed.error.empty()) {
        result.fail(parsed.error);
        return CommandReply(std::move(result), Durability::deferred);
    }
    const auto until = stream.stream_for(parsed.level, std::chrono::seconds(parsed.seconds));
    result.set("level", stream_level_name(parsed.level));
    result.set("seconds", parsed.seconds);
    result.set("until", contract::utc_timestamp(until));
    // Lasts seconds at most and renewed by a new request: nothing to find again after a crash.
    return CommandReply(std::move(result), Durability::deferred);
}

CommandSpec spec(const contract::AgentTopics& topics, std::string_view name,
                 std::string_view command, std::string_view result, commands::CommandHandler h) {
    return CommandSpec{std::string(name), topics.at(command), topics.at(result), Lane::fast,
                       std::move(h)};
}

Result set_component_level(ComponentLogLevels& levels, const ComponentLevelPorts& ports,
                           const std::string& cid, const CommandRequest& request) {
    Result result(request.request_id, Clock::now());
    result.set("component_id", cid);
    const auto parsed = parse_component_log_level(request.payload);
    if (!parsed.error.empty()) return std::move(result.fail(parsed.error));
    // A level stored for a component that is not installed (left by an agent that kept levels
    // across an uninstall) can still be cleared: nothing would clear it otherwise.
    const bool clearing_leftover = !parsed.level && levels.has(cid);
    if (!clearing_leftover && !ports.installed(cid)) {
        return std::move(result.fail("component not found: " + cid));
    }
    try {
        levels.set(cid, parsed.level);
        if (ports.changed) ports.changed(cid);
    } catch (const std::exception& e) {
        return std::move(result.fail(std::string("cannot save config: ") + e.what()));
    }
    rapidjson::Value applied(rapidjson::kObjectType);
    rapidjson::Value level;
    if (parsed.level) level = text(stream_level_name(*parsed.level), result.allocator());
    applied.AddMember("log_level", rapidjson::Value(level, result.allocator()), result.allocator());
    result.set("applied", applied);
    result.set("log_level", level);
    logger("commands")
        ->info("{}'s log level: {}", cid,
               parsed.level ? std::string(stream_level_name(*parsed.level))
                            : std::string("the agent's"));
    return result;
}

}  // namespace

std::vector<CommandSpec> log_command_specs(const contract::AgentTopics& topics, LogTap& tap,
                                           LogStream& stream) {
    namespace t = contract::topics;
    std::vector<CommandSpec> specs;
    specs.push_back(spec(topics, t::kLogsGet.name, t::kLogsGet.command, t::kLogsGet.result,
                         [&tap](const CommandRequest& rq) { return logs_get(tap, rq); }));
    specs.push_back(spec(topics, t::kLogsStream.name, t::kLogsStream.command, t::kLogsStream.result,
                         [&stream](const CommandRequest& rq) { return logs_stream(stream, rq); }));
    return specs;
}

void register_component_log_level(commands::CommandDispatcher& dispatcher,
                                  mqtt::MessageRouter& router, mqtt::MqttSession& session,
                                  const contract::AgentTopics& topics, ComponentLogLevels& levels,
                                  ComponentLevelPorts ports) {
    // The result topic depends on the component: a spec per message, as for its cfg/set.
    const std::string filter = topics.component("+", contract::topics::kComponentLogLevelSet);
    const std::string prefix = topics.base() + "/components/";
    router.add(filter, [&dispatcher, &levels, &topics, prefix,
                        ports = std::move(ports)](const mqtt::MqttMessage& m) {
        const std::string cid =
            m.topic.substr(prefix.size(), m.topic.find('/', prefix.size()) - prefix.size());
        if (!registry::is_valid_identifier(cid)) return;  // not a component of ours
        auto spec = std::make_shared<CommandSpec>(CommandSpec{
            "component cfg/logging/set", m.topic,
            topics.component(cid, contract::topics::kComponentLogLevelResult), Lane::control,
            [&levels, ports, cid](const CommandRequest& rq) {
                return CommandReply(set_component_level(levels, ports, cid, rq));
            },
            [cid](const CommandRequest&, Result& result) { result.set("component_id", cid); }});
        dispatcher.submit(std::move(spec), m);
    });
    session.subscribe(filter);
}

}  // namespace lucid::host::agent
