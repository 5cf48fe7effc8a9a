#include "components/component_commands.hpp"

#include <memory>

#include "components/audit_log.hpp"
#include "components/progress_publisher.hpp"
#include "contract/component_id_field.hpp"
#include "contract/json_text.hpp"
#include "lucid/registry/identifiers.hpp"

namespace lucid::host::components {
namespace topics = contract::topics;
using commands::CommandReply;
using commands::CommandSpec;
using commands::Lane;

// A command the dispatcher refused before it ran (see CommandSpec): its result echoes the
// component_id the payload named, like every other refusal, and it gets its audit line.
std::function<void(const contract::CommandRequest&, contract::Result&)> audit_refusal(
    std::string operation, std::string component_id = {}) {
    return [operation = std::move(operation), component_id = std::move(component_id)](
               const contract::CommandRequest& request, contract::Result& result) {
        std::string cid = component_id;
        // Also for a payload refused for another of its fields (an expires_at that is past or
        // malformed, a duplicate key): what it names is readable, and every answer of a command
        // that names a component echoes it (contract §3.4).
        // A payload with two component_ids says nothing for sure: none is echoed.
        if (cid.empty() && request.payload.IsObject() &&
            contract::duplicate_key(request.payload) !=
                std::optional<std::string_view>("component_id")) {
            if (auto echo = contract::read_component_id(request.payload).echo) cid = *echo;
        }
        if (!cid.empty()) result.set("component_id", cid);
        audit({operation, cid, request.request_id, "", "", ""}, result);
    };
}

void register_component_commands(commands::CommandDispatcher& dispatcher,
                                 mqtt::MessageRouter& router, mqtt::MqttSession& session,
                                 const contract::AgentTopics& topics, ComponentManager& manager) {
    auto add = [&](CommandSpec spec) {
        const std::string topic = spec.command_topic;
        dispatcher.add(std::move(spec));
        router.add(topic, dispatcher.route(topic));
        session.subscribe(topic, 1);
    };
    add(CommandSpec{"install", topics.at(topics::kInstall.command),
                    topics.at(topics::kInstall.result), Lane::slow,
                    [&session, &manager, progress_topic = topics.at(topics::kInstallProgress)](
                        const contract::CommandRequest& rq) {
                        ProgressPublisher progress(session, progress_topic, rq.request_id);
                        return CommandReply(manager.install(
                            rq, [&](const std::string& phase, std::uint64_t bytes,
                                    std::uint64_t total) { progress(phase, bytes, total); }));
                    },
                    audit_refusal("install")});
    add(CommandSpec{"uninstall", topics.at(topics::kUninstall.command),
                    topics.at(topics::kUninstall.result), Lane::slow,
                    [&manager](const contract::CommandRequest& rq) {
                        return CommandReply(manager.uninstall(rq));
                    },
                    audit_refusal("uninstall")});
    for (const auto& command : {topics::kStart, topics::kStop, topics::kRestartComponent,
                                topics::kEnable, topics::kDisable}) {
        const std::string action(command.command.substr(command.command.rfind('/') + 1));
        add(CommandSpec{action, topics.at(command.command), topics.at(command.result),
                        Lane::control,
                        [&manager, action](const contract::CommandRequest& rq) {
                            return CommandReply(manager.control(action, rq));
                        },
                        audit_refusal(action)});
    }

    add(CommandSpec{"configure", topics.at(topics::kConfigureComponent.command),
                    topics.at(topics::kConfigureComponent.result), Lane::control,
                    [&manager](const contract::CommandRequest& rq) {
                        return CommandReply(manager.configure_isolation(rq));
                    },
                    audit_refusal("configure")});
    add(CommandSpec{"revoke", topics.at(topics::kRevokeKeys.command),
                    topics.at(topics::kRevokeKeys.result), Lane::control,
                    [&manager](const contract::CommandRequest& rq) {
                        return CommandReply(manager.revoke_keys(rq));
                    },
                    audit_refusal("revoke")});

    // components/{cid}/cfg/set: the result topic depends on the component, so each message
    // gets its own spec before it goes through the dispatcher (parse, dedup, lane, result).
    const std::string filter = topics.component("+", "cfg/set");
    const std::string prefix = topics.base() + "/components/";
    router.add(filter, [&dispatcher, &manager, &topics, prefix](const mqtt::MqttMessage& m) {
        const std::string cid =
            m.topic.substr(prefix.size(), m.topic.find('/', prefix.size()) - prefix.size());
        if (!registry::is_valid_identifier(cid)) return;  // not a component of ours
        auto spec = std::make_shared<CommandSpec>(CommandSpec{
            "component cfg/set", m.topic, topics.component_cfg_set_result(cid), Lane::control,
            [&manager, cid](const contract::CommandRequest& rq) {
                return CommandReply(manager.configure(cid, rq));
            },
            audit_refusal("config", cid)});
        dispatcher.submit(std::move(spec), m);
    });
    session.subscribe(filter);
}

}  // namespace lucid::host::components
