// lucidctl's connection to the broker: short-lived, clean session, no Will, one request at a time.
//
// The agent's MqttSession is built for the opposite (persistent session, supervised reconnect,
// Will); lucidctl needs "connect or fail fast", "publish and wait for the ack", and "wait for
// the first message that matches", all with deadlines. libmosquitto's own loop thread is enough.
//
// Thread: the owning thread calls everything; messages arrive on libmosquitto's thread and are
// handed over under a mutex. Errors: BrokerUnreachable (exit code 3 in lucidctl).
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "mqtt/mqtt_session.hpp"
#include "mqtt/mqtt_url.hpp"

struct mosquitto;
struct mosquitto_message;

namespace lucid::host::ctl {

class BrokerUnreachable : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};
// A TLS file that cannot be read or used: a local problem (exit 2), not an unreachable broker.
class BrokerSetupError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

struct ReceivedMessage {
    std::string topic;
    std::string payload;
    bool retain = false;
};

class BrokerClient {
  public:
    // Connects and waits for the CONNACK; throws BrokerUnreachable (password never in the text;
    // a failed TLS handshake names the CA and OpenSSL's reason, tls_probe.hpp) or
    // BrokerSetupError (a TLS file that cannot be read).
    BrokerClient(const mqtt::MqttEndpoint& endpoint, const mqtt::TlsFiles& tls,
                 std::chrono::milliseconds timeout);
    ~BrokerClient();
    BrokerClient(const BrokerClient&) = delete;
    BrokerClient& operator=(const BrokerClient&) = delete;

    // Subscribes and waits for the SUBACK, so nothing published afterwards is missed.
    void subscribe(const std::string& filter, int qos = 1);
    // Several filters in one SUBSCRIBE (one round trip however many), QoS 1.
    void subscribe(const std::vector<std::string>& filters);
    // Publishes at QoS 1 and waits for the PUBACK: the timeout, plus a second per MiB of
    // payload (an inline install of tens of MiB through a slow link). `waiting` is called
    // about every 250 ms meanwhile (progress for such an upload).
    void publish(const std::string& topic, const std::string& payload, bool retain = false,
                 const std::function<void()>& waiting = {});

    // The next message (in arrival order) for which `accept` returns true, or nullopt at the
    // deadline. Messages that are not accepted are dropped.
    std::optional<ReceivedMessage> wait_for(
        const std::function<bool(const ReceivedMessage&)>& accept,
        std::chrono::steady_clock::time_point deadline);

    // Every retained message currently stored under `filter`. After subscribing, a marker is
    // published on a private topic. mosquitto delivers the retained messages of a subscription
    // before anything published after it, so there the marker coming back ends the set. MQTT
    // 3.1.1 does not promise that order, and other brokers break it (aedes streams retained
    // messages from its store after the SUBACK, so the marker overtakes them): unless the
    // broker said it is mosquitto (`$SYS/broker/version`, read with the first call), the set
    // ends once no message came for kRetainedQuiet after the marker.
    std::vector<ReceivedMessage> retained(const std::string& filter,
                                          std::chrono::steady_clock::time_point deadline);
    // The same for several filters at once (one marker round trip for all).
    std::vector<ReceivedMessage> retained(const std::vector<std::string>& filters,
                                          std::chrono::steady_clock::time_point deadline);

    std::chrono::milliseconds timeout() const { return timeout_; }

    // How long the retained set must stay quiet after the marker on a broker that may deliver
    // retained messages late.
    static constexpr std::chrono::milliseconds kRetainedQuiet{300};

  private:
    static void on_connect(mosquitto*, void* self, int rc);
    static void on_message(mosquitto*, void* self, const mosquitto_message* message);
    static void on_subscribe(mosquitto*, void* self, int mid, int, const int*);
    static void on_publish(mosquitto*, void* self, int mid);
    static void on_disconnect(mosquitto*, void* self, int rc);
    [[noreturn]] void fail_connect(const mqtt::MqttEndpoint& endpoint, const mqtt::TlsFiles& tls,
                                   const std::string& what);
    void connect(const mqtt::MqttEndpoint& endpoint, const mqtt::TlsFiles& tls);
    void close();
    bool wait_ack(int mid, std::chrono::steady_clock::time_point deadline,
                  const std::function<void()>& waiting = {});

    mosquitto* mosq_ = nullptr;
    bool loop_started_ = false;
    std::chrono::milliseconds timeout_;
    std::string client_id_;
    std::mutex mutex_;
    std::condition_variable cv_;
    std::deque<ReceivedMessage> inbox_;
    std::set<int> acked_;
    int connack_ = -1;
    bool connected_ = false;     // between a CONNACK that accepted and the next disconnect
    bool disconnected_ = false;  // the connection ended before the CONNACK (e.g. TLS refused)
    // What was subscribed, to subscribe again when libmosquitto's loop reconnects after the
    // broker went away (a clean session: the broker forgot them); `logs --follow` and `top`
    // run for hours.
    std::vector<std::pair<std::string, int>> subscriptions_;
    // Whether the broker delivers retained messages before later ones (it is mosquitto);
    // nullopt until the first retained() read asked.
    std::optional<bool> ordered_retained_;
};

}  // namespace lucid::host::ctl
