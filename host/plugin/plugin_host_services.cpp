#include "plugin/plugin_host_services.hpp"

#include "contract/topics.hpp"

namespace lucid::host {

std::optional<contract::CommandRequest> PluginHostServices::admit_command(
    const std::string& component_id, const std::string& action, const std::string& payload) {
    auto request = contract::parse_command(payload);
    if (request.ok()) return request;
    refuse_command(component_id, action, payload, request.error);
    return std::nullopt;
}

void PluginHostServices::answer_command(const std::string& component_id, const std::string& action,
                                        const contract::CommandRequest&, contract::Result result) {
    publish(contract::component_command_result_topic(base_topic(), component_id, action),
            result.str(), 1, false);
}

void PluginHostServices::refuse_command(const std::string& component_id, const std::string& action,
                                        const std::string& payload, const std::string& error) {
    const auto request = contract::parse_command(payload);
    contract::Result result(request.request_id, now());
    result.fail(contract::refusal_error(payload, error));
    publish(contract::component_command_result_topic(base_topic(), component_id, action),
            result.str(), 1, false);
}

}  // namespace lucid::host
