#include "mqtt/message_router.hpp"

#include <algorithm>

#include "common/logging.hpp"

namespace lucid::host::mqtt {

MessageRouter::RouteId MessageRouter::add(std::string filter, MessageHandler handler) {
    std::lock_guard<std::mutex> lock(mutex_);
    const RouteId id = next_id_++;
    routes_.push_back(
        Route{id, std::move(filter), std::make_shared<const MessageHandler>(std::move(handler))});
    return id;
}

void MessageRouter::remove(RouteId id) {
    std::lock_guard<std::mutex> lock(mutex_);
    routes_.erase(
        std::remove_if(routes_.begin(), routes_.end(), [id](const Route& r) { return r.id == id; }),
        routes_.end());
}

std::size_t MessageRouter::dispatch(const MqttMessage& message) const {
    // Handlers are called outside the lock so that a handler may add or remove routes.
    std::vector<std::shared_ptr<const MessageHandler>> matched;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        for (const auto& route : routes_) {
            if (topic_matches(route.filter, message.topic)) matched.push_back(route.handler);
        }
    }
    for (const auto& handler : matched) {
        try {
            (*handler)(message);
        } catch (const std::exception& e) {
            logger("mqtt")->error("handler for {} threw: {}", message.topic, e.what());
        } catch (...) {
            logger("mqtt")->error("handler for {} threw a non-exception", message.topic);
        }
    }
    return matched.size();
}

}  // namespace lucid::host::mqtt
