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
    std::string relative = "components/";
    relative.append(component_id).append("/").append(suffix);
    return at(relative);
}

std::string AgentTopics::component_command(std::string_view cid, std::string_view action) const {
    return component(cid, std::string("cmd/").append(action));
}

std::string AgentTopics::component_command_result(std::string_view cid,
                                                  std::string_view action) const {
    return component(cid, std::string("evt/").append(action).append("_result"));
}

std::string all_agents_status_filter(std::string_view root) {
    return std::string(root).append("/+/").append(topics::kStatus);
}

}  // namespace lucid::host::contract
