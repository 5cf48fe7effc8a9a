// The MQTT client of the tests and the bench (libmosquitto, its own loop thread): subscribes,
// publishes, and keeps every message with the time it arrived (taken in the libmosquitto
// callback, so waking the waiting thread is not counted), so a caller waits for a condition with
// a deadline, never a sleep. It reconnects by itself when the broker goes away and subscribes
// again to what it had.
//
//   MqttClient c(port, "bench-driver");
//   c.subscribe("lucid/agents/a/core/evt/ping_result");
//   c.publish("lucid/agents/a/core/cmd/ping", R"({"request_id":"p1"})");
//   auto r = c.wait_for("lucid/agents/a/core/evt/ping_result", with_request_id("p1"));
//
// Thread: the public calls from one thread; a tap runs on libmosquitto's loop thread.
// Errors: the constructor, subscribe() and publish() throw std::runtime_error (no test
// framework here: the bench links it too; tests REQUIRE on what they get back).
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <rapidjson/document.h>

struct mosquitto;
struct mosquitto_message;

namespace lucid::test {

struct Message {
    std::string topic;
    std::string payload;
    bool retain = false;
    std::chrono::steady_clock::time_point received;

    // The payload as JSON (an object; throws std::runtime_error otherwise).
    rapidjson::Document json() const;
    std::string str(const char* key) const;  // a string field, "" when absent or not a string
    // A field as compact JSON text ("" when absent): `["a","b"]` for a list of names.
    std::string json_text(const char* key) const;
};

// Fields of a JSON object text: "" / 0 / false when the text is not an object or the field is
// absent or of another type.
std::string string_field(const std::string& json, const char* key);
unsigned long long uint_field(const std::string& json, const char* key);
bool true_field(const std::string& json, const char* key);

using Predicate = std::function<bool(const Message&)>;

class MqttClient {
  public:
    // `ca_file` non-empty: connect over TLS, trusting that CA. Connects (blocking) and starts
    // the loop thread.
    explicit MqttClient(int port, std::string client_id = "", std::string username = "",
                        std::string password = "", std::string ca_file = "");
    ~MqttClient();
    MqttClient(const MqttClient&) = delete;
    MqttClient& operator=(const MqttClient&) = delete;

    // Subscribes and waits for the SUBACK, so nothing published afterwards is missed.
    void subscribe(const std::string& filter, int qos = 1);
    // Publishes and waits for the broker's acknowledgement: everything published before it on
    // this connection has then reached the broker.
    void publish(const std::string& topic, const std::string& payload, int qos = 1,
                 bool retain = false, std::chrono::milliseconds timeout = std::chrono::seconds(10));
    // Queues the message without waiting for the broker (which may be away right now: a QoS 1
    // message goes out once connected).
    void publish_nowait(const std::string& topic, const std::string& payload, int qos = 1,
                        bool retain = false);

    // The first message (received since construction or the last clear()) on `topic` that
    // satisfies `predicate`, waiting up to `timeout`.
    std::optional<Message> wait_for(const std::string& topic, const Predicate& predicate,
                                    std::chrono::milliseconds timeout = std::chrono::seconds(10));
    // The messages on `topic` satisfying `predicate` once there are at least `count` of them
    // (fewer on timeout).
    std::vector<Message> wait_for_count(
        const std::string& topic, std::size_t count, const Predicate& predicate,
        std::chrono::milliseconds timeout = std::chrono::seconds(10));
    // Like wait_for on any topic, but removes the message it returns: a loop taking one
    // answer after another does not find the same one again.
    std::optional<Message> take(const Predicate& predicate, std::chrono::milliseconds timeout);
    std::vector<Message> messages(const std::string& topic) const;
    // Every message received since construction or the last clear(), in arrival order.
    std::vector<Message> all_messages() const;
    void clear();
    // A tap sees every message first, on the loop thread; returning true consumes it. For
    // throughput runs, where keeping each message would measure the client.
    void set_tap(Predicate tap);

  private:
    static void on_connect(mosquitto*, void*, int rc);
    static void on_message(mosquitto*, void*, const mosquitto_message*);
    static void on_subscribe(mosquitto*, void*, int, int, const int*);
    static void on_publish(mosquitto*, void*, int);
    std::optional<Message> first(const Predicate& predicate, std::chrono::milliseconds timeout,
                                 bool remove);
    void wait_acked(int mid, std::chrono::milliseconds timeout, const std::string& what);

    mosquitto* mosq_ = nullptr;
    mutable std::mutex mutex_;
    std::condition_variable cv_;
    std::deque<Message> messages_;
    std::set<int> acked_;
    std::vector<std::pair<std::string, int>> filters_;  // subscribed again on every reconnect
    std::mutex tap_mutex_;
    Predicate tap_;
};

// True when `m` carries request_id `id`.
Predicate with_request_id(const std::string& id);
Predicate any_message();
// Cheap check for hot paths (no parse): the payload contains "request_id":"<id>".
bool has_request_id(const std::string& payload, const std::string& id);

}  // namespace lucid::test
