// Reads the retained message of one topic through the agent's session: subscribes, waits for the
// first message on exactly that topic, unsubscribes. How the agent fetches an artifact published
// on the broker (install source `broker`, contract §4.1): the bytes cross the network once per
// device, and only broker access is needed.
//
//   auto bytes = read_retained(router, session, "lucid/artifacts/cpu/1.2.0/linux_x86_64",
//                              {std::chrono::seconds(30), 64 << 20, cancelled});
//
// MQTT has no "there is no retained message": a topic without one is told by the timeout. The
// session's subscriptions are counted per filter, and a SUBSCRIBE is sent only for a new one
// (retained messages come with it): reads are serialized, so two installs of one artifact at a
// time each get their own SUBSCRIBE. A plugin subscribed to that very topic would take the
// retained message away from a read (it then waits for the next publish or the timeout).
//
// Thread: any but the network thread (it blocks until the message or the timeout). Errors:
// Expected with Errc::not_found (nothing within the timeout), Errc::invalid (too large),
// Errc::cancelled.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "common/expected.hpp"
#include "mqtt/message_router.hpp"
#include "mqtt/mqtt_session.hpp"

namespace lucid::host::mqtt {

struct RetainedRead {
    std::chrono::milliseconds timeout{30000};
    std::size_t max_bytes = 64u << 20;
    // Set (from any thread) to give up within a fraction of a second.
    std::shared_ptr<std::atomic<bool>> cancelled;
};

// Errors name the topic:
//   no retained message on <topic> within 30 s (is the artifact published, and may this agent
//   read it?)
//   the message on <topic> is 70000000 bytes, over the 67108864 allowed
//   empty retained message on <topic>
Expected<std::string> read_retained(MessageRouter& router, MqttSession& session,
                                    const std::string& topic, const RetainedRead& limits);

}  // namespace lucid::host::mqtt
