// Routes incoming MQTT messages by topic filter (`+`/`#` wildcards) to registered handlers.
//
// Thread: add/remove from any thread; dispatch() runs on the network thread, so a handler MUST
// NOT block: it only hands the message to its own queue (the command lanes, a plugin's
// dispatcher) and returns. A handler removed while a dispatch is under way may still receive
// that one message. Handlers must not throw (dispatch catches and logs, but the message is lost
// for that handler).
//
//   auto id = router.add("lucid/agents/a1/core/cmd/#", [&](const MqttMessage& m) { lane.post(m);
//   }); router.remove(id);
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "mqtt/topic_filter.hpp"

namespace lucid::host::mqtt {

struct MqttMessage {
    std::string topic;
    std::string payload;
    int qos = 0;
    bool retain = false;
};

using MessageHandler = std::function<void(const MqttMessage&)>;

class MessageRouter {
  public:
    using RouteId = std::uint64_t;

    RouteId add(std::string filter, MessageHandler handler);
    void remove(RouteId id);

    // Calls every matching handler; returns how many matched.
    std::size_t dispatch(const MqttMessage& message) const;

  private:
    struct Route {
        RouteId id;
        std::string filter;
        std::shared_ptr<const MessageHandler> handler;
    };
    mutable std::mutex mutex_;
    std::vector<Route> routes_;
    RouteId next_id_ = 1;
};

}  // namespace lucid::host::mqtt
