// The agent's single MQTT connection (libmosquitto), supervised by our own thread.
//
// Why our own thread and not mosquitto_loop_start(): libmosquitto's reconnect delay grows
// quadratically, has no jitter, and its loop thread ends for good on some errors. Here one
// thread connects (non-blocking), pumps mosquitto_loop(), and on any failure waits a
// Backoff delay before the next attempt, for as long as the session runs.
//
// Every connection: the Will (status offline, with the session number that connection will get)
// is armed before connecting; persistent session (clean_session=false, fixed client id) so QoS 1
// commands sent while we were away are delivered after the reconnect; TCP_NODELAY (a QoS 1
// round trip otherwise waits on Nagle's algorithm); on CONNACK every filter of the subscription
// set is (re)subscribed, a few SUBSCRIBE packets of many filters each, then the connected handler
// runs (the agent republishes snapshots).
//
// Threads: the network thread runs the libmosquitto callbacks, the router's dispatch and the
// connected handler — none of them may block. publish/subscribe/unsubscribe/wait_delivered are
// safe from any other thread. start()/stop() from the owning thread.
//
//   MqttSession session(options, counter, router, will_factory);
//   session.on_connected([&](const ConnectionInfo& c) { snapshots.publish_all(); });
//   session.subscribe(topics.at("core/cmd/#"));
//   session.start();
//   ...
//   session.stop();
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "contract/timestamp.hpp"
#include "mqtt/backoff.hpp"
#include "mqtt/message_router.hpp"
#include "mqtt/mqtt_url.hpp"
#include "mqtt/publisher.hpp"
#include "mqtt/session_counter.hpp"
#include "mqtt/subscription_set.hpp"

struct mosquitto;
struct mosquitto_message;

namespace lucid::host::mqtt {

// The CA directory used when no CA file is given (Debian's ca-certificates), by the agent and
// lucidctl alike.
inline constexpr const char* kSystemCaPath = "/etc/ssl/certs";

struct TlsFiles {
    std::string ca_file;    // empty → the system's CA store (kSystemCaPath)
    std::string cert_file;  // client certificate (with key_file), optional
    std::string key_file;
};

struct SessionOptions {
    MqttEndpoint endpoint;
    std::string client_id;
    int keepalive_s = 30;
    TlsFiles tls;
    std::chrono::milliseconds backoff_min{1000};
    std::chrono::milliseconds backoff_max{60000};
    // A TCP connection that gets no CONNACK within this time is dropped and retried.
    std::chrono::milliseconds connack_timeout{10000};
};

struct WillMessage {
    std::string topic;
    std::string payload;
    int qos = 1;
    bool retain = true;
};

struct ConnectionInfo {
    std::uint64_t session = 0;
    contract::Clock::time_point since;
};

class MqttSession final : public Publisher {
  public:
    using WillFactory = std::function<WillMessage(std::uint64_t session)>;
    using ConnectedHandler = std::function<void(const ConnectionInfo&)>;

    // `counter` and `router` must outlive the session.
    MqttSession(SessionOptions options, SessionCounter& counter, MessageRouter& router,
                WillFactory will_factory);
    ~MqttSession() override;
    MqttSession(const MqttSession&) = delete;
    MqttSession& operator=(const MqttSession&) = delete;

    // Runs on the network thread after every successful connect; must not block.
    void on_connected(ConnectedHandler handler);

    // Configures the client and starts the network thread. Throws std::runtime_error on a
    // configuration the client refuses (e.g. unreadable TLS files).
    void start();
    // Sends DISCONNECT (no Will) when connected, ends the network thread. Idempotent.
    void stop();

    // Adds a filter to the subscription set (resubscribed on every connect) and subscribes now
    // when connected. Reference-counted per filter.
    void subscribe(const std::string& filter, int qos = 1);
    // Ends the filter's last reference; the broker is told now, or on the next connect when
    // offline (the session is persistent: it would keep the subscription).
    void unsubscribe(const std::string& filter);
    // Tells the broker to drop a filter an earlier process may have left in the persistent
    // session, unless the set holds it: now when connected, else at the next connect.
    void unsubscribe_previous(const std::string& filter);

    MessageId publish(const std::string& topic, std::string_view payload, int qos,
                      bool retain) override;
    bool wait_delivered(int mid, std::chrono::milliseconds timeout) override;
    bool connected() const override { return connected_.load(); }

    std::optional<ConnectionInfo> connection() const;
    // While on, every reconnect waits the longest delay (backoff_max). For another process
    // with this client id (agent/takeover_detector.hpp): the broker drops one connection
    // whenever the other connects, and reconnecting at once would only take it back, for ever.
    // Any thread.
    void hold_off(bool on) { hold_off_ = on; }
    const SessionOptions& options() const { return options_; }

  private:
    static void on_connect_cb(mosquitto*, void* self, int rc);
    static void on_disconnect_cb(mosquitto*, void* self, int rc);
    static void on_publish_cb(mosquitto*, void* self, int mid);
    static void on_message_cb(mosquitto*, void* self, const mosquitto_message* message);
    static void on_unsubscribe_cb(mosquitto*, void* self, int mid);
    static void on_log_cb(mosquitto*, void* self, int level, const char* text);

    void run();
    // One connection from connect to loss; returns when it ended (or stop was requested).
    void run_connection();
    // After a TLS failure: logs OpenSSL's reason once per change (tls_verify_probe.hpp).
    void explain_tls_failure();
    void handle_connect(int rc);
    void mark_disconnected();
    // One UNSUBSCRIBE of `filters`; the caller holds subscribe_mutex_.
    void send_unsubscribe(const std::vector<std::string>& filters);
    bool wait_for_stop(std::chrono::milliseconds delay);
    bool stop_requested() const;

    SessionOptions options_;
    SessionCounter& counter_;
    MessageRouter& router_;
    WillFactory will_factory_;
    ConnectedHandler connected_handler_;
    SubscriptionSet subscriptions_;
    // Held across a change of subscriptions_ and the SUBSCRIBE/UNSUBSCRIBE it calls for, and
    // while connect replays them: the broker sees them in the order the set changed.
    std::mutex subscribe_mutex_;
    // UNSUBSCRIBE mid → its filters, until its UNSUBACK.
    std::map<int, std::vector<std::string>> unsubscribing_;
    Backoff backoff_;

    mosquitto* mosq_ = nullptr;
    std::thread thread_;

    mutable std::mutex mutex_;  // guards stop_requested_, connection_
    std::condition_variable stop_cv_;
    bool stop_requested_ = false;
    std::optional<ConnectionInfo> connection_;
    std::atomic<bool> connected_{false};
    std::string last_tls_problem_;  // the session thread's own
    std::atomic<bool> hold_off_{false};
    std::uint64_t pending_session_ = 0;  // network thread only

    // PUBACKs seen, bounded: a waiter may register after the PUBACK already arrived.
    std::mutex delivery_mutex_;
    std::condition_variable delivery_cv_;
    std::unordered_set<int> delivered_;
    std::deque<int> delivered_order_;
};

}  // namespace lucid::host::mqtt
