#include "mqtt/mqtt_session.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <random>
#include <stdexcept>

#include <mosquitto.h>

#include "common/logging.hpp"
#include "mqtt/tls_verify_probe.hpp"

namespace lucid::host::mqtt {
namespace {

constexpr std::size_t kDeliveredMemory = 1024;
// How long one mosquitto_loop() call may block. Publishes from other threads wake it at once
// (libmosquitto's socket pair); this bounds only the latency of stop() and of keepalive checks.
constexpr int kLoopTimeoutMs = 200;
constexpr auto kDisconnectGrace = std::chrono::milliseconds(1000);

std::vector<char*> c_filters(const std::vector<std::string>& filters) {
    std::vector<char*> out;
    out.reserve(filters.size());
    // libmosquitto's signature takes char* const*, and only reads them.
    for (const auto& f : filters) out.push_back(const_cast<char*>(f.c_str()));
    return out;
}

void init_library_once() {
    static const int rc = mosquitto_lib_init();
    (void)rc;
}

std::uint64_t random_seed() {
    std::random_device device;
    return (static_cast<std::uint64_t>(device()) << 32) ^ device();
}

}  // namespace

MqttSession::MqttSession(SessionOptions options, SessionCounter& counter, MessageRouter& router,
                         WillFactory will_factory)
    : options_(std::move(options)),
      counter_(counter),
      router_(router),
      will_factory_(std::move(will_factory)),
      backoff_(options_.backoff_min, options_.backoff_max, random_seed()) {
    init_library_once();
    mosq_ = mosquitto_new(options_.client_id.c_str(), /*clean_session=*/false, this);
    if (mosq_ == nullptr) throw std::runtime_error("mosquitto_new failed");
}

MqttSession::~MqttSession() {
    stop();
    mosquitto_destroy(mosq_);
}

void MqttSession::on_connected(ConnectedHandler handler) {
    connected_handler_ = std::move(handler);
}

void MqttSession::start() {
    // Publishing from worker threads while our thread sits in mosquitto_loop() needs the
    // library's thread-aware mode (it then wakes the loop instead of writing itself).
    mosquitto_threaded_set(mosq_, true);
    mosquitto_int_option(mosq_, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
    mosquitto_int_option(mosq_, MOSQ_OPT_TCP_NODELAY, 1);
    mosquitto_connect_callback_set(mosq_, &MqttSession::on_connect_cb);
    mosquitto_disconnect_callback_set(mosq_, &MqttSession::on_disconnect_cb);
    mosquitto_publish_callback_set(mosq_, &MqttSession::on_publish_cb);
    mosquitto_message_callback_set(mosq_, &MqttSession::on_message_cb);
    mosquitto_unsubscribe_callback_set(mosq_, &MqttSession::on_unsubscribe_cb);
    mosquitto_log_callback_set(mosq_, &MqttSession::on_log_cb);

    const auto& endpoint = options_.endpoint;
    if (!endpoint.username.empty()) {
        const char* password = endpoint.password.empty() ? nullptr : endpoint.password.c_str();
        if (mosquitto_username_pw_set(mosq_, endpoint.username.c_str(), password) !=
            MOSQ_ERR_SUCCESS) {
            throw std::runtime_error("cannot set MQTT credentials");
        }
    }
    if (endpoint.tls) {
        const auto& tls = options_.tls;
        // Without a CA file, the system's CA directory: libmosquitto 2.0.11 refuses tls_set with
        // neither a file nor a directory, MOSQ_OPT_TLS_USE_OS_CERTS notwithstanding.
        const bool system_cas = tls.ca_file.empty();
        const int rc = mosquitto_tls_set(
            mosq_, system_cas ? nullptr : tls.ca_file.c_str(), system_cas ? kSystemCaPath : nullptr,
            tls.cert_file.empty() ? nullptr : tls.cert_file.c_str(),
            tls.key_file.empty() ? nullptr : tls.key_file.c_str(), nullptr);
        if (rc != MOSQ_ERR_SUCCESS) {
            // lucid-agent checks the files before it starts (config/tls_files_check.hpp); name
            // them anyway for any other caller.
            throw std::runtime_error(
                std::string("TLS setup failed (CA ") +
                (system_cas ? std::string("system, ") + kSystemCaPath : tls.ca_file) +
                (tls.cert_file.empty() ? "" : ", cert " + tls.cert_file) +
                "): " + mosquitto_strerror(rc));
        }
    }
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stop_requested_ = false;
    }
    thread_ = std::thread([this] { run(); });
}

void MqttSession::stop() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (stop_requested_ && !thread_.joinable()) return;
        stop_requested_ = true;
    }
    stop_cv_.notify_all();
    if (thread_.joinable()) thread_.join();
}

bool MqttSession::stop_requested() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return stop_requested_;
}

bool MqttSession::wait_for_stop(std::chrono::milliseconds delay) {
    std::unique_lock<std::mutex> lock(mutex_);
    return stop_cv_.wait_for(lock, delay, [this] { return stop_requested_; });
}

void MqttSession::run() {
    auto log = logger("mqtt");
    const auto where = redacted_url(options_.endpoint);
    while (!stop_requested()) {
        try {
            run_connection();
        } catch (const std::exception& e) {
            // Nothing may end this thread but stop(): the agent would silently stay offline.
            log->error("MQTT session error: {}", e.what());
        }
        mark_disconnected();
        if (stop_requested()) break;
        const auto delay = hold_off_ ? options_.backoff_max : backoff_.next();
        log->info("reconnecting to {} in {} ms (attempt {})", where, delay.count(),
                  backoff_.attempt());
        if (wait_for_stop(delay)) break;
    }
}

void MqttSession::run_connection() {
    auto log = logger("mqtt");
    const auto& endpoint = options_.endpoint;

    // The Will must carry the session number of the connection it guards, so it is re-armed
    // before every attempt; the number is committed only on CONNACK.
    pending_session_ = counter_.next();
    const WillMessage will = will_factory_(pending_session_);
    mosquitto_will_set(mosq_, will.topic.c_str(), static_cast<int>(will.payload.size()),
                       will.payload.data(), will.qos, will.retain);

    int rc =
        mosquitto_connect_async(mosq_, endpoint.host.c_str(), endpoint.port, options_.keepalive_s);
    if (rc != MOSQ_ERR_SUCCESS) {
        log->warn("cannot connect to {}: {}", redacted_url(endpoint),
                  rc == MOSQ_ERR_ERRNO ? std::strerror(errno) : mosquitto_strerror(rc));
        return;
    }
    const auto connack_deadline = std::chrono::steady_clock::now() + options_.connack_timeout;
    bool disconnect_sent = false;
    std::chrono::steady_clock::time_point disconnect_deadline{};
    while (true) {
        rc = mosquitto_loop(mosq_, kLoopTimeoutMs, 1);
        if (rc != MOSQ_ERR_SUCCESS) {
            if (!disconnect_sent) {
                log->warn("connection to {} lost: {}", redacted_url(endpoint),
                          rc == MOSQ_ERR_ERRNO ? std::strerror(errno) : mosquitto_strerror(rc));
            }
            if (rc == MOSQ_ERR_TLS && !connected()) {
                // libmosquitto says only "A TLS error occurred": find out which, once per change.
                explain_tls_failure();
            }
            return;
        }
        const auto now = std::chrono::steady_clock::now();
        if (stop_requested()) {
            if (!disconnect_sent) {
                // A clean DISCONNECT: the broker discards the Will (the agent published its
                // own offline status before stopping the session).
                mosquitto_disconnect(mosq_);
                disconnect_sent = true;
                disconnect_deadline = now + kDisconnectGrace;
            } else if (now > disconnect_deadline) {
                return;
            }
        } else if (!connected() && now > connack_deadline) {
            log->warn("no CONNACK from {} within {} ms", redacted_url(endpoint),
                      options_.connack_timeout.count());
            mosquitto_disconnect(mosq_);
            return;
        }
    }
}

void MqttSession::explain_tls_failure() {
    const auto problem = tls_verify_problem(options_.endpoint.host, options_.endpoint.port,
                                            options_.tls, std::chrono::seconds(5));
    if (problem.empty() || problem == last_tls_problem_) return;
    last_tls_problem_ = problem;
    logger("mqtt")->error("TLS to {}: {}", redacted_url(options_.endpoint), problem);
}

void MqttSession::handle_connect(int rc) {
    auto log = logger("mqtt");
    if (rc != 0) {
        log->warn("broker refused the connection: {}", mosquitto_connack_string(rc));
        return;
    }
    const ConnectionInfo info{pending_session_, contract::Clock::now()};
    counter_.commit(info.session);
    backoff_.reset();
    {
        std::lock_guard<std::mutex> lock(mutex_);
        connection_ = info;
    }
    // connected_ is set before resubscribing: a subscribe() waiting for subscribe_mutex_ then
    // sends its SUBSCRIBE itself once we are done.
    connected_ = true;
    {
        std::lock_guard<std::mutex> lock(subscribe_mutex_);
        // One filter a SUBSCRIBE: with several in one packet an agent on an aedes cluster
        // (scripts/cluster-test.sh) never received its desired state (mosquitto took them), so
        // issue 21's batching of a boot's subscriptions waits until that is understood.
        for (const auto& sub : subscriptions_.all()) {
            mosquitto_subscribe(mosq_, nullptr, sub.filter.c_str(), sub.qos);
        }
        unsubscribing_.clear();  // those of the last connection get no UNSUBACK: send again
        for (auto& filter : subscriptions_.owed_unsubscribes()) send_unsubscribe({filter});
    }
    log->info("connected to {} as {} (session {})", redacted_url(options_.endpoint),
              options_.client_id, info.session);
    if (connected_handler_) connected_handler_(info);
}

void MqttSession::mark_disconnected() {
    connected_ = false;
    std::lock_guard<std::mutex> lock(mutex_);
    connection_.reset();
}

std::optional<ConnectionInfo> MqttSession::connection() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return connection_;
}

void MqttSession::subscribe(const std::string& filter, int qos) {
    std::lock_guard<std::mutex> lock(subscribe_mutex_);
    if (subscriptions_.add(filter, qos) && connected()) {
        mosquitto_subscribe(mosq_, nullptr, filter.c_str(), qos);
    }
}

void MqttSession::unsubscribe(const std::string& filter) {
    std::lock_guard<std::mutex> lock(subscribe_mutex_);
    if (subscriptions_.remove(filter) && connected()) send_unsubscribe({filter});
}

void MqttSession::unsubscribe_previous(const std::string& filter) {
    std::lock_guard<std::mutex> lock(subscribe_mutex_);
    if (subscriptions_.owe_unsubscribe(filter) && connected()) send_unsubscribe({filter});
}

void MqttSession::send_unsubscribe(const std::vector<std::string>& filters) {
    // Owed until its UNSUBACK: a packet queued or written just before the connection went may
    // never reach the broker, and the next connect sends it again.
    int mid = 0;
    const auto c = c_filters(filters);
    if (mosquitto_unsubscribe_multiple(mosq_, &mid, static_cast<int>(c.size()), c.data(),
                                       nullptr) == MOSQ_ERR_SUCCESS) {
        unsubscribing_[mid] = filters;
    }
}

void MqttSession::on_unsubscribe_cb(mosquitto*, void* self, int mid) {
    auto* session = static_cast<MqttSession*>(self);
    std::lock_guard<std::mutex> lock(session->subscribe_mutex_);
    auto it = session->unsubscribing_.find(mid);
    if (it == session->unsubscribing_.end()) return;
    const std::vector<std::string> filters = std::move(it->second);
    session->unsubscribing_.erase(it);
    for (const auto& filter : filters) {
        bool pending_again = false;  // a later UNSUBSCRIBE of it is still on its way
        for (const auto& [other, pending] : session->unsubscribing_) {
            if (std::find(pending.begin(), pending.end(), filter) != pending.end()) {
                pending_again = true;
            }
        }
        if (!pending_again) session->subscriptions_.unsubscribed(filter);
    }
}

MessageId MqttSession::publish(const std::string& topic, std::string_view payload, int qos,
                               bool retain) {
    int mid = 0;
    const int rc = mosquitto_publish(mosq_, &mid, topic.c_str(), static_cast<int>(payload.size()),
                                     payload.data(), qos, retain);
    if (rc == MOSQ_ERR_SUCCESS) return mid;
    return Error{rc == MOSQ_ERR_NO_CONN && qos > 0 ? Errc::deferred : Errc::io,
                 mosquitto_strerror(rc)};
}

bool MqttSession::wait_delivered(int mid, std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(delivery_mutex_);
    const bool seen =
        delivery_cv_.wait_for(lock, timeout, [&] { return delivered_.count(mid) > 0; });
    if (seen) delivered_.erase(mid);
    return seen;
}

// libmosquitto explains TLS and protocol failures only in its log ("OpenSSL Error[0]: ...
// certificate verify failed"): an operator needs that line, so errors and warnings go to ours.
void MqttSession::on_log_cb(mosquitto*, void*, int level, const char* text) {
    if (level & MOSQ_LOG_ERR) {
        logger("mqtt")->error("libmosquitto: {}", text);
    } else if (level & MOSQ_LOG_WARNING) {
        logger("mqtt")->warn("libmosquitto: {}", text);
    }
}

void MqttSession::on_connect_cb(mosquitto*, void* self, int rc) {
    try {
        static_cast<MqttSession*>(self)->handle_connect(rc);
    } catch (const std::exception& e) {
        logger("mqtt")->error("on_connect failed: {}", e.what());
    }
}

void MqttSession::on_disconnect_cb(mosquitto*, void* self, int rc) {
    auto* session = static_cast<MqttSession*>(self);
    session->connected_ = false;
    if (rc != 0) logger("mqtt")->debug("disconnected: {}", mosquitto_strerror(rc));
}

void MqttSession::on_publish_cb(mosquitto*, void* self, int mid) {
    auto* session = static_cast<MqttSession*>(self);
    {
        std::lock_guard<std::mutex> lock(session->delivery_mutex_);
        session->delivered_.insert(mid);
        session->delivered_order_.push_back(mid);
        if (session->delivered_order_.size() > kDeliveredMemory) {
            session->delivered_.erase(session->delivered_order_.front());
            session->delivered_order_.pop_front();
        }
    }
    session->delivery_cv_.notify_all();
}

void MqttSession::on_message_cb(mosquitto*, void* self, const mosquitto_message* message) {
    try {
        MqttMessage copy;
        copy.topic = message->topic;
        if (message->payloadlen > 0) {
            copy.payload.assign(static_cast<const char*>(message->payload),
                                static_cast<std::size_t>(message->payloadlen));
        }
        copy.qos = message->qos;
        copy.retain = message->retain;
        static_cast<MqttSession*>(self)->router_.dispatch(copy);
    } catch (const std::exception& e) {
        logger("mqtt")->error("dropping message on {}: {}", message->topic, e.what());
    }
}

}  // namespace lucid::host::mqtt
