#include "mqtt/retained_reader.hpp"

#include <condition_variable>
#include <mutex>
#include <optional>

namespace lucid::host::mqtt {
namespace {

// Shared with the route: a handler removed during a dispatch may still run after the read
// returned.
struct Mailbox {
    std::mutex mutex;
    std::condition_variable arrived;
    std::optional<std::string> payload;
};

std::mutex& reads_mutex() {
    static std::mutex mutex;
    return mutex;
}

}  // namespace

Expected<std::string> read_retained(MessageRouter& router, MqttSession& session,
                                    const std::string& topic, const RetainedRead& limits) {
    std::lock_guard<std::mutex> one_at_a_time(reads_mutex());
    auto box = std::make_shared<Mailbox>();
    const auto route = router.add(topic, [box, topic](const MqttMessage& message) {
        if (message.topic != topic) return;
        std::lock_guard<std::mutex> lock(box->mutex);
        if (!box->payload) box->payload = message.payload;
        box->arrived.notify_all();
    });
    session.subscribe(topic, 1);
    const auto deadline = std::chrono::steady_clock::now() + limits.timeout;
    std::optional<std::string> payload;
    bool cancelled = false;
    {
        std::unique_lock<std::mutex> lock(box->mutex);
        while (!box->payload) {
            cancelled = limits.cancelled && limits.cancelled->load();
            if (cancelled || std::chrono::steady_clock::now() >= deadline) break;
            // Woken by the message; the slice bounds how late a cancel is seen.
            box->arrived.wait_for(lock, std::chrono::milliseconds(200));
        }
        payload = std::move(box->payload);
    }
    router.remove(route);
    session.unsubscribe(topic);
    if (!payload) {
        if (cancelled) return Error{Errc::cancelled, "cancelled"};
        const auto seconds =
            std::chrono::duration_cast<std::chrono::seconds>(limits.timeout).count();
        return Error{Errc::not_found, "no retained message on " + topic + " within " +
                                          std::to_string(seconds) +
                                          " s (is the artifact published, and may this agent "
                                          "read it?)"};
    }
    if (payload->empty()) return Error{Errc::not_found, "empty retained message on " + topic};
    if (payload->size() > limits.max_bytes) {
        return Error{Errc::invalid, "the message on " + topic + " is " +
                                        std::to_string(payload->size()) + " bytes, over the " +
                                        std::to_string(limits.max_bytes) + " allowed"};
    }
    return std::move(*payload);
}

}  // namespace lucid::host::mqtt
