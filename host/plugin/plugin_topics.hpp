// How a plugin's topics map onto MQTT topics (the rule documented in lucid/plugin.h):
//   relative "temp"        -> {base}/components/{cid}/temp
//   absolute "/site/alert" -> site/alert  (leading '/' removed, rest verbatim)
// where {base} is the agent's base topic (`{root}/{agent_id}`, contract/topics.hpp).
// Publishing to an absolute topic inside {base}/ is refused: the agent's own topics are
// written by the host only. Pure; thread-safe; errors are returned, never thrown.
#pragma once

#include <string>
#include <string_view>

namespace lucid::host {

struct ResolvedTopic {
    std::string topic;  // the MQTT topic or filter when ok()
    std::string error;  // why it was refused

    bool ok() const { return error.empty(); }
};

// A topic to publish to.
ResolvedTopic resolve_publish_topic(std::string_view base, std::string_view component_id,
                                    std::string_view topic);

// A filter to subscribe to (wildcards allowed, absolute filters anywhere).
ResolvedTopic resolve_subscription_filter(std::string_view base, std::string_view component_id,
                                          std::string_view filter);

// `{base}/components/{cid}/`.
std::string component_prefix(std::string_view base, std::string_view component_id);

}  // namespace lucid::host
