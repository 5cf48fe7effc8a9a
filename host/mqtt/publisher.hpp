// The seam through which everything in the host publishes: the MQTT session implements it,
// unit tests use a recording fake.
//
// Thread: implementations are safe from any thread. Errors: an Expected, never thrown:
// Errc::deferred when not connected but the client keeps the message and sends it on
// (re)connect (QoS 1/2: libmosquitto reports MOSQ_ERR_NO_CONN for a message it has queued all
// the same); Errc::io with libmosquitto's text otherwise.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "common/expected.hpp"

namespace lucid::host::mqtt {

// A published message's id, for wait_delivered().
using MessageId = Expected<int>;

class Publisher {
  public:
    virtual ~Publisher() = default;

    // Queues a message. QoS 1 messages published while disconnected are kept by the client and
    // sent after the reconnect.
    virtual MessageId publish(const std::string& topic, std::string_view payload, int qos,
                              bool retain) = 0;

    // Blocks until message `mid` was handed to the broker (PUBACK for QoS 1). False on timeout.
    virtual bool wait_delivered(int mid, std::chrono::milliseconds timeout) = 0;

    // True while a broker session is established.
    virtual bool connected() const = 0;
};

}  // namespace lucid::host::mqtt
