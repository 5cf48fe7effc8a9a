#include "contract/topics.hpp"

namespace lucid::host::contract {

AgentTopics::AgentTopics(std::string root, std::string agent_id)
    : root_(std::move(root)), agent_id_(std::move(agent_id)), base_(root_ + "/" + agent_id_) {}

std::string AgentTopics::at(std::string_view suffix) const {
    std::string topic;
    topic.reserve(base_.size() + 1 + suffix.size());
    topic.append(base_).append("/").append(suffix);
    return topic;
}

std::string AgentTopics::component(std::string_view component_id, std::string_view suffix) const {
    return component_topic(base_, component_id, suffix);
}

std::string AgentTopics::component_command(std::string_view cid, std::string_view action) const {
    return component(cid, std::string("cmd/").append(action));
}

std::string AgentTopics::component_command_result(std::string_view cid,
                                                  std::string_view action) const {
    return component_command_result_topic(base_, cid, action);
}

namespace {
constexpr std::string_view kComponents = "/components/";
constexpr std::string_view kCommand = "cmd/";
}  // namespace

std::string component_topic(std::string_view base, std::string_view cid, std::string_view suffix) {
    std::string topic;
    topic.reserve(base.size() + kComponents.size() + cid.size() + 1 + suffix.size());
    topic.append(base).append(kComponents).append(cid).append("/").append(suffix);
    return topic;
}

std::string component_command_result_topic(std::string_view base, std::string_view cid,
                                           std::string_view action) {
    return component_topic(base, cid, std::string("evt/").append(action).append("_result"));
}

std::optional<ComponentTopic> parse_component_topic(std::string_view base, std::string_view topic) {
    if (topic.substr(0, base.size()) != base) return std::nullopt;
    topic.remove_prefix(base.size());
    if (topic.substr(0, kComponents.size()) != kComponents) return std::nullopt;
    topic.remove_prefix(kComponents.size());
    const auto slash = topic.find('/');
    if (slash == 0 || slash == std::string_view::npos || slash + 1 == topic.size()) {
        return std::nullopt;
    }
    return ComponentTopic{std::string(topic.substr(0, slash)),
                          std::string(topic.substr(slash + 1))};
}

std::optional<std::string> component_command_action(const ComponentTopic& topic) {
    std::string_view suffix = topic.suffix;
    if (suffix.substr(0, kCommand.size()) != kCommand) return std::nullopt;
    suffix.remove_prefix(kCommand.size());
    if (suffix.empty() || suffix.find('/') != std::string_view::npos) return std::nullopt;
    return std::string(suffix);
}

bool valid_topic_level(std::string_view level) {
    return !level.empty() && level.find_first_of(std::string_view("/+#\0", 4)) == level.npos;
}

std::string all_agents_status_filter(std::string_view root) {
    return std::string(root).append("/+/").append(topics::kStatus);
}

bool valid_topic_root(std::string_view t) {
    return !t.empty() && t.front() != '/' && t.back() != '/' &&
           t.find_first_of("+#") == std::string_view::npos &&
           t.find('\0') == std::string_view::npos && t.find("//") == std::string_view::npos;
}

std::string artifacts_prefix(std::string_view fleet_root) {
    return std::string(fleet_root) + "/artifacts/";
}

}  // namespace lucid::host::contract
