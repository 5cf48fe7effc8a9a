#include "lucidctl/broker_client.hpp"

#include "config/tls_files_check.hpp"
#include "lucidctl/tls_probe.hpp"

#include <mosquitto.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include <algorithm>
#include <random>

namespace lucid::host::ctl {
namespace {

std::string random_suffix() {
    std::random_device rd;
    std::uniform_int_distribution<unsigned> dist(0, 0xffffff);
    char buf[16];
    std::snprintf(buf, sizeof buf, "%06x", dist(rd));
    return buf;
}

void library_init_once() {
    static const int rc = mosquitto_lib_init();
    (void)rc;
}

}  // namespace

BrokerClient::BrokerClient(const mqtt::MqttEndpoint& endpoint, const mqtt::TlsFiles& tls,
                           std::chrono::milliseconds timeout)
    : timeout_(timeout),
      client_id_("lucidctl-" + std::to_string(::getpid()) + "-" + random_suffix()) {
    library_init_once();
    mosq_ = mosquitto_new(client_id_.c_str(), true, this);
    if (!mosq_) throw BrokerUnreachable("cannot create an MQTT client");
    try {
        connect(endpoint, tls);
    } catch (...) {
        close();  // the destructor does not run for a constructor that throws
        throw;
    }
}

void BrokerClient::connect(const mqtt::MqttEndpoint& endpoint, const mqtt::TlsFiles& tls) {
    const std::string where = mqtt::redacted_url(endpoint);
    mosquitto_int_option(mosq_, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
    mosquitto_int_option(mosq_, MOSQ_OPT_TCP_NODELAY, 1);
    mosquitto_connect_callback_set(mosq_, &BrokerClient::on_connect);
    mosquitto_disconnect_callback_set(mosq_, &BrokerClient::on_disconnect);
    mosquitto_message_callback_set(mosq_, &BrokerClient::on_message);
    mosquitto_subscribe_callback_set(mosq_, &BrokerClient::on_subscribe);
    mosquitto_publish_callback_set(mosq_, &BrokerClient::on_publish);
    if (!endpoint.username.empty()) {
        mosquitto_username_pw_set(mosq_, endpoint.username.c_str(),
                                  endpoint.password.empty() ? nullptr : endpoint.password.c_str());
    }
    if (endpoint.tls) {
        // The agent's own checks (config/tls_files_check.hpp): a file that is missing, holds no
        // certificate, or a key of another certificate is a local problem, named as the agent
        // names it, not a failed handshake.
        if (Status usable = config::tls_files_problem(tls); !usable) {
            throw BrokerSetupError(usable.error().message);
        }
        const char* ca = tls.ca_file.empty() ? nullptr : tls.ca_file.c_str();
        const char* ca_path = ca ? nullptr : kSystemCaPath;
        const char* cert = tls.cert_file.empty() ? nullptr : tls.cert_file.c_str();
        const char* key = tls.key_file.empty() ? nullptr : tls.key_file.c_str();
        if (const int rc = mosquitto_tls_set(mosq_, ca, ca_path, cert, key, nullptr);
            rc != MOSQ_ERR_SUCCESS) {
            throw BrokerSetupError("cannot use the TLS files for " + where + " (" +
                                   ca_description(tls) + "): " + mosquitto_strerror(rc));
        }
    }
    const int rc = mosquitto_connect(mosq_, endpoint.host.c_str(), endpoint.port, 30);
    if (rc == MOSQ_ERR_TLS) fail_connect(endpoint, tls, mosquitto_strerror(rc));
    if (rc != MOSQ_ERR_SUCCESS) {
        throw BrokerUnreachable("cannot connect to " + where + ": " + mosquitto_strerror(rc));
    }
    mosquitto_loop_start(mosq_);
    loop_started_ = true;
    std::unique_lock<std::mutex> lock(mutex_);
    if (!cv_.wait_for(lock, timeout_, [&] { return connack_ >= 0 || disconnected_; })) {
        lock.unlock();
        fail_connect(endpoint, tls, "no answer within " + std::to_string(timeout_.count()) + " ms");
    }
    if (connack_ < 0) {
        lock.unlock();
        fail_connect(endpoint, tls, "the connection was closed before the broker answered");
    }
    if (connack_ != 0) {
        const int code = connack_;
        lock.unlock();
        throw BrokerUnreachable("broker " + where +
                                " refused the connection: " + mosquitto_connack_string(code));
    }
}

void BrokerClient::fail_connect(const mqtt::MqttEndpoint& endpoint, const mqtt::TlsFiles& tls,
                                const std::string& what) {
    const std::string where = mqtt::redacted_url(endpoint);
    if (endpoint.tls) {
        // libmosquitto does not say why a handshake failed: ask OpenSSL directly.
        close();
        const std::string reason = tls_failure_reason(endpoint, tls, timeout_);
        if (!reason.empty()) {
            throw BrokerUnreachable("TLS handshake with " + where + " failed: " + reason);
        }
    }
    throw BrokerUnreachable("cannot connect to " + where + ": " + what);
}

BrokerClient::~BrokerClient() { close(); }

void BrokerClient::close() {
    if (!mosq_) return;
    mosquitto_disconnect(mosq_);
    if (loop_started_) {
        // Cancelling the loop thread can leave one of libmosquitto's mutexes locked (it may be
        // inside a callback or a write), and destroying the client then destroys a locked
        // mutex. While connected the loop ends by itself once the DISCONNECT is out; only a
        // loop that is not connected may sit in a blocking connect for minutes, and is cancelled.
        bool connected = false;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            connected = connected_;
        }
        mosquitto_loop_stop(mosq_, !connected);
    }
    mosquitto_destroy(mosq_);
    mosq_ = nullptr;
}

void BrokerClient::on_connect(mosquitto* mosq, void* self, int rc) {
    auto* client = static_cast<BrokerClient*>(self);
    std::vector<std::pair<std::string, int>> again;
    {
        std::lock_guard<std::mutex> lock(client->mutex_);
        const bool reconnected = client->connack_ == 0 && rc == 0;
        client->connack_ = rc;
        client->connected_ = rc == 0;
        if (reconnected) again = client->subscriptions_;
        client->cv_.notify_all();
    }
    if (again.empty()) return;
    // The broker answers with the retained messages again, so a command that follows the
    // agent (logs --follow, top) sees its current status at once.
    for (const auto& [filter, qos] : again) mosquitto_subscribe(mosq, nullptr, filter.c_str(), qos);
    std::fprintf(stderr, "lucidctl: connected to the broker again; subscribed again\n");
}

void BrokerClient::on_disconnect(mosquitto*, void* self, int rc) {
    auto* client = static_cast<BrokerClient*>(self);
    std::lock_guard<std::mutex> lock(client->mutex_);
    if (client->connack_ < 0) client->disconnected_ = true;
    client->connected_ = false;
    // rc 0 is our own disconnect; anything else is the broker or the network going away, and
    // libmosquitto's loop connects again every second.
    if (rc != 0 && client->connack_ == 0 && !client->subscriptions_.empty()) {
        std::fprintf(stderr, "lucidctl: lost the connection to the broker; connecting again\n");
    }
    client->cv_.notify_all();
}

void BrokerClient::on_message(mosquitto*, void* self, const mosquitto_message* m) {
    auto* client = static_cast<BrokerClient*>(self);
    ReceivedMessage message{
        m->topic,
        std::string(static_cast<const char*>(m->payload), static_cast<std::size_t>(m->payloadlen)),
        m->retain};
    std::lock_guard<std::mutex> lock(client->mutex_);
    client->inbox_.push_back(std::move(message));
    client->cv_.notify_all();
}

void BrokerClient::on_subscribe(mosquitto*, void* self, int mid, int, const int*) {
    on_publish(nullptr, self, mid);
}

void BrokerClient::on_publish(mosquitto*, void* self, int mid) {
    auto* client = static_cast<BrokerClient*>(self);
    std::lock_guard<std::mutex> lock(client->mutex_);
    client->acked_.insert(mid);
    client->cv_.notify_all();
}

bool BrokerClient::wait_ack(int mid, std::chrono::steady_clock::time_point deadline,
                            const std::function<void()>& waiting) {
    std::unique_lock<std::mutex> lock(mutex_);
    bool acked = false;
    while (true) {
        const auto step = waiting ? std::min(deadline, std::chrono::steady_clock::now() +
                                                           std::chrono::milliseconds(250))
                                  : deadline;
        acked = cv_.wait_until(lock, step, [&] { return acked_.count(mid) > 0; });
        if (acked || std::chrono::steady_clock::now() >= deadline) break;
        lock.unlock();
        waiting();
        lock.lock();
    }
    acked_.erase(mid);
    return acked;
}

void BrokerClient::subscribe(const std::string& filter, int qos) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        subscriptions_.emplace_back(filter, qos);
    }
    int mid = 0;
    // An ack that arrives before wait_ack() starts waiting is kept in acked_, so none is missed.
    if (mosquitto_subscribe(mosq_, &mid, filter.c_str(), qos) != MOSQ_ERR_SUCCESS ||
        !wait_ack(mid, std::chrono::steady_clock::now() + timeout_)) {
        throw BrokerUnreachable("the broker did not accept the subscription to " + filter);
    }
}

void BrokerClient::subscribe(const std::vector<std::string>& filters) {
    if (filters.empty()) return;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        for (const auto& f : filters) subscriptions_.emplace_back(f, 1);
    }
    std::vector<char*> list;
    for (const auto& f : filters) list.push_back(const_cast<char*>(f.c_str()));
    int mid = 0;
    if (mosquitto_subscribe_multiple(mosq_, &mid, static_cast<int>(list.size()), list.data(), 1, 0,
                                     nullptr) != MOSQ_ERR_SUCCESS ||
        !wait_ack(mid, std::chrono::steady_clock::now() + timeout_)) {
        throw BrokerUnreachable(
            "the broker did not accept the subscription to " + filters.front() +
            (filters.size() > 1 ? " and " + std::to_string(filters.size() - 1) + " other filter(s)"
                                : std::string()));
    }
}

void BrokerClient::publish(const std::string& topic, const std::string& payload, bool retain,
                           const std::function<void()>& waiting) {
    int mid = 0;
    const int rc = mosquitto_publish(mosq_, &mid, topic.c_str(), static_cast<int>(payload.size()),
                                     payload.data(), 1, retain);
    if (rc == MOSQ_ERR_PAYLOAD_SIZE) {
        throw BrokerUnreachable("the message on " + topic + " is too large for MQTT (" +
                                std::to_string(payload.size()) + " bytes)");
    }
    const auto allowance = std::chrono::seconds(payload.size() >> 20);
    if (rc != MOSQ_ERR_SUCCESS ||
        !wait_ack(mid, std::chrono::steady_clock::now() + timeout_ + allowance, waiting)) {
        throw BrokerUnreachable("the broker did not acknowledge the publish on " + topic);
    }
}

std::optional<ReceivedMessage> BrokerClient::wait_for(
    const std::function<bool(const ReceivedMessage&)>& accept,
    std::chrono::steady_clock::time_point deadline) {
    std::unique_lock<std::mutex> lock(mutex_);
    while (true) {
        while (!inbox_.empty()) {
            ReceivedMessage message = std::move(inbox_.front());
            inbox_.pop_front();
            if (accept(message)) return message;
        }
        if (cv_.wait_until(lock, deadline) == std::cv_status::timeout && inbox_.empty()) {
            return std::nullopt;
        }
    }
}

std::vector<ReceivedMessage> BrokerClient::retained(
    const std::string& filter, std::chrono::steady_clock::time_point deadline) {
    return retained(std::vector<std::string>{filter}, deadline);
}

std::vector<ReceivedMessage> BrokerClient::retained(
    const std::vector<std::string>& filters, std::chrono::steady_clock::time_point deadline) {
    static const std::string kVersionTopic = "$SYS/broker/version";
    const std::string marker = "lucidctl/marker/" + client_id_;
    const bool ask_version = !ordered_retained_.has_value();
    std::vector<std::string> all = filters;
    // A broker whose ACL hides $SYS simply does not answer: the quiet period then applies.
    if (ask_version) all.push_back(kVersionTopic);
    all.push_back(marker);
    subscribe(all);
    publish(marker, "");
    std::vector<ReceivedMessage> found;
    // Live messages (a report the caller waits for next) arrive meanwhile: they are kept for
    // the caller's next wait_for, not dropped with the retained ones read here.
    std::vector<ReceivedMessage> live;
    bool mosquitto = false;
    const auto keep = [&](ReceivedMessage&& message) {
        if (message.topic == kVersionTopic) {
            mosquitto = message.payload.rfind("mosquitto", 0) == 0;
        } else if (!message.retain) {
            live.push_back(std::move(message));
        } else if (!message.payload.empty()) {
            found.push_back(std::move(message));
        }
    };
    while (true) {
        auto message = wait_for([](const ReceivedMessage&) { return true; }, deadline);
        if (!message) {
            throw BrokerUnreachable("timed out reading retained messages of " + filters.front());
        }
        if (message->topic == marker) break;
        keep(std::move(*message));
    }
    if (ask_version) ordered_retained_ = mosquitto;
    if (!*ordered_retained_) {
        while (true) {
            const auto quiet_until =
                std::min(deadline, std::chrono::steady_clock::now() + kRetainedQuiet);
            auto message = wait_for([](const ReceivedMessage&) { return true; }, quiet_until);
            if (!message) break;
            keep(std::move(*message));
        }
    }
    std::lock_guard<std::mutex> lock(mutex_);
    inbox_.insert(inbox_.begin(), std::make_move_iterator(live.begin()),
                  std::make_move_iterator(live.end()));
    return found;
}

}  // namespace lucid::host::ctl
