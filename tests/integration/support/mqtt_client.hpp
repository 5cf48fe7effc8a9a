// An MQTT client for tests (libmosquitto, its own loop thread): subscribes, publishes, and
// collects every message so a test can wait for a condition with a deadline, never a sleep.
// It reconnects by itself when the broker goes away and subscribes again to what it had.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <rapidjson/document.h>

struct mosquitto;
struct mosquitto_message;

namespace lucid::itest {

struct Message {
    std::string topic;
    std::string payload;
    bool retain = false;
    std::chrono::steady_clock::time_point received;

    // The payload as JSON (an object, or the test fails).
    rapidjson::Document json() const;
    std::string str(const char* key) const;  // a string field, "" when absent or not a string
    // A field as compact JSON text ("" when absent): `["a","b"]` for a list of names.
    std::string json_text(const char* key) const;
};

using Predicate = std::function<bool(const Message&)>;

class MqttClient {
  public:
    // `ca_file` non-empty: connect over TLS, trusting that CA.
    explicit MqttClient(int port, std::string client_id = "", std::string username = "",
                        std::string password = "", std::string ca_file = "");
    ~MqttClient();
    MqttClient(const MqttClient&) = delete;
    MqttClient& operator=(const MqttClient&) = delete;

    // Subscribes and waits for the SUBACK, so nothing published afterwards is missed.
    void subscribe(const std::string& filter, int qos = 1);
    // Publishes and waits for the broker's acknowledgement (QoS 1).
    void publish(const std::string& topic, const std::string& payload, int qos = 1,
                 bool retain = false);
    // Queues a QoS 1 publish without waiting for the broker (which may be away right now);
    // libmosquitto sends it once connected.
    void publish_nowait(const std::string& topic, const std::string& payload);

    // The first message (received since construction or the last clear()) on `topic` that
    // satisfies `predicate`, waiting up to `timeout`.
    std::optional<Message> wait_for(const std::string& topic, const Predicate& predicate,
                                    std::chrono::milliseconds timeout = std::chrono::seconds(10));
    // The messages on `topic` satisfying `predicate` once there are at least `count` of them
    // (fewer on timeout).
    std::vector<Message> wait_for_count(
        const std::string& topic, std::size_t count, const Predicate& predicate,
        std::chrono::milliseconds timeout = std::chrono::seconds(10));
    std::vector<Message> messages(const std::string& topic) const;
    // Every message received since construction or the last clear(), in arrival order.
    std::vector<Message> all_messages() const;
    void clear();

  private:
    static void on_connect(mosquitto*, void*, int rc);
    static void on_message(mosquitto*, void*, const mosquitto_message*);
    static void on_subscribe(mosquitto*, void*, int, int, const int*);
    static void on_publish(mosquitto*, void*, int);

    mosquitto* mosq_ = nullptr;
    mutable std::mutex mutex_;
    std::condition_variable cv_;
    std::vector<Message> messages_;
    std::vector<int> acked_;
    std::vector<std::pair<std::string, int>> filters_;  // subscribed again on every reconnect
};

// True when `m` carries request_id `id`.
Predicate with_request_id(const std::string& id);
Predicate any_message();

}  // namespace lucid::itest
