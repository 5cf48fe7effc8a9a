// The bench's own MQTT client: publishes commands and load, and receives results with the time
// they arrived (taken in the libmosquitto callback, so waking the bench thread is not counted).
//
//   MqttDriver d(port, "bench-driver");
//   d.subscribe("lucid/agents/a/core/evt/ping_result");
//   d.publish("lucid/agents/a/core/cmd/ping", R"({"request_id":"p1"})");
//   auto r = d.wait_for([](const Received& m) { return has_request_id(m.payload, "p1"); });
//
// Thread: the public calls from one bench thread; a tap runs on libmosquitto's loop thread.
// Errors: the constructor, subscribe() and publish() throw std::runtime_error.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <string>

struct mosquitto;
struct mosquitto_message;

namespace lucid::bench {

using Clock = std::chrono::steady_clock;

struct Received {
    std::string topic;
    std::string payload;
    bool retain = false;
    Clock::time_point at;
};

class MqttDriver {
  public:
    // Connects (blocking) and starts the loop thread. Throws when the broker refuses.
    MqttDriver(int port, const std::string& client_id);
    ~MqttDriver();
    MqttDriver(const MqttDriver&) = delete;
    MqttDriver& operator=(const MqttDriver&) = delete;

    // Waits for the SUBACK.
    void subscribe(const std::string& filter, int qos = 1);
    // Queues the message; does not wait for the PUBACK.
    void publish(const std::string& topic, const std::string& payload, int qos = 1,
                 bool retain = false);
    // Publishes at QoS 1 and waits for the PUBACK: everything published before it on this
    // connection has then reached the broker.
    void publish_acked(const std::string& topic, const std::string& payload,
                       std::chrono::milliseconds timeout = std::chrono::seconds(60));

    // The first queued message for which pred is true (removed from the queue).
    std::optional<Received> wait_for(const std::function<bool(const Received&)>& pred,
                                     std::chrono::milliseconds timeout);
    // A tap sees every message first, on the loop thread; returning true consumes it. For
    // throughput runs, where queueing each message would measure the bench.
    void set_tap(std::function<bool(const Received&)> tap);
    void clear();

  private:
    static void on_message(mosquitto*, void* self, const mosquitto_message* m);
    static void on_ack(mosquitto*, void* self, int mid);
    static void on_subscribe(mosquitto*, void* self, int mid, int, const int*);

    mosquitto* mosq_ = nullptr;
    std::mutex mutex_;
    std::condition_variable cv_;
    std::deque<Received> inbox_;
    std::set<int> acked_;
    std::mutex tap_mutex_;
    std::function<bool(const Received&)> tap_;
};

// The value of a top-level string member of a JSON object text ("" when absent).
std::string json_string(const std::string& json, const char* key);
// The value of a top-level unsigned integer member (0 when absent).
unsigned long long json_uint(const std::string& json, const char* key);
// True when the top-level boolean member is true.
bool json_true(const std::string& json, const char* key);
// Cheap check used on hot paths: the payload contains "request_id":"<id>".
bool has_request_id(const std::string& payload, const std::string& id);

}  // namespace lucid::bench
