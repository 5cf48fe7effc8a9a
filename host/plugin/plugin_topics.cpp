#include "plugin/plugin_topics.hpp"

#include "mqtt/topic_filter.hpp"

namespace lucid::host {

namespace {

ResolvedTopic refused(std::string why) { return ResolvedTopic{{}, std::move(why)}; }

std::string resolve(std::string_view base, std::string_view cid, std::string_view topic) {
    if (topic.front() == '/') return std::string(topic.substr(1));
    return component_prefix(base, cid) + std::string(topic);
}

}  // namespace

std::string component_prefix(std::string_view base, std::string_view component_id) {
    std::string prefix(base);
    prefix += "/components/";
    prefix += component_id;
    prefix += '/';
    return prefix;
}

ResolvedTopic resolve_publish_topic(std::string_view base, std::string_view component_id,
                                    std::string_view topic) {
    if (topic.empty() || topic == "/") return refused("empty topic");
    std::string full = resolve(base, component_id, topic);
    if (!mqtt::is_valid_topic_name(full)) {
        return refused("invalid topic '" + full + "' (wildcards are not allowed in a publish)");
    }
    std::string own_tree = std::string(base) + "/";
    if (topic.front() == '/' && (full == base || full.compare(0, own_tree.size(), own_tree) == 0)) {
        return refused("absolute topic '" + full +
                       "' is inside the agent's own tree; use a relative topic");
    }
    return ResolvedTopic{std::move(full), {}};
}

ResolvedTopic resolve_subscription_filter(std::string_view base, std::string_view component_id,
                                          std::string_view filter) {
    if (filter.empty() || filter == "/") return refused("empty filter");
    std::string full = resolve(base, component_id, filter);
    if (!mqtt::is_valid_topic_filter(full)) return refused("invalid topic filter '" + full + "'");
    return ResolvedTopic{std::move(full), {}};
}

}  // namespace lucid::host
