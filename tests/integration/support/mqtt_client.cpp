#include "mqtt_client.hpp"

#include <algorithm>
#include <stdexcept>

#include <mosquitto.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace lucid::itest {

rapidjson::Document Message::json() const {
    rapidjson::Document doc;
    doc.Parse(payload.c_str(), payload.size());
    if (doc.HasParseError() || !doc.IsObject()) {
        throw std::runtime_error("not a JSON object on " + topic + ": " + payload);
    }
    return doc;
}

std::string Message::str(const char* key) const {
    rapidjson::Document doc;
    doc.Parse(payload.c_str(), payload.size());
    if (doc.HasParseError() || !doc.IsObject()) return "";
    auto it = doc.FindMember(key);
    if (it == doc.MemberEnd() || !it->value.IsString()) return "";
    return it->value.GetString();
}

std::string Message::json_text(const char* key) const {
    rapidjson::Document doc;
    doc.Parse(payload.c_str(), payload.size());
    if (doc.HasParseError() || !doc.IsObject()) return "";
    auto it = doc.FindMember(key);
    if (it == doc.MemberEnd()) return "";
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
    it->value.Accept(writer);
    return {buffer.GetString(), buffer.GetSize()};
}

MqttClient::MqttClient(int port, std::string client_id, std::string username, std::string password,
                       std::string ca_file) {
    static const int init = mosquitto_lib_init();
    (void)init;
    mosq_ = mosquitto_new(client_id.empty() ? nullptr : client_id.c_str(), true, this);
    mosquitto_int_option(mosq_, MOSQ_OPT_TCP_NODELAY, 1);
    mosquitto_connect_callback_set(mosq_, &MqttClient::on_connect);
    mosquitto_message_callback_set(mosq_, &MqttClient::on_message);
    mosquitto_subscribe_callback_set(mosq_, &MqttClient::on_subscribe);
    mosquitto_publish_callback_set(mosq_, &MqttClient::on_publish);
    if (!username.empty()) {
        mosquitto_username_pw_set(mosq_, username.c_str(), password.c_str());
    }
    if (!ca_file.empty())
        mosquitto_tls_set(mosq_, ca_file.c_str(), nullptr, nullptr, nullptr, nullptr);
    if (mosquitto_connect(mosq_, "127.0.0.1", port, 30) != MOSQ_ERR_SUCCESS) {
        mosquitto_destroy(mosq_);
        throw std::runtime_error("test client cannot connect");
    }
    mosquitto_loop_start(mosq_);
}

MqttClient::~MqttClient() {
    mosquitto_disconnect(mosq_);
    mosquitto_loop_stop(mosq_, false);
    mosquitto_destroy(mosq_);
}

void MqttClient::subscribe(const std::string& filter, int qos) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        filters_.emplace_back(filter, qos);
    }
    int mid = 0;
    if (mosquitto_subscribe(mosq_, &mid, filter.c_str(), qos) != MOSQ_ERR_SUCCESS) {
        throw std::runtime_error("subscribe failed");
    }
    std::unique_lock<std::mutex> lock(mutex_);
    const bool acked = cv_.wait_for(lock, std::chrono::seconds(10), [&] {
        return std::find(acked_.begin(), acked_.end(), mid) != acked_.end();
    });
    if (!acked) throw std::runtime_error("no SUBACK for " + filter);
}

void MqttClient::publish(const std::string& topic, const std::string& payload, int qos,
                         bool retain) {
    int mid = 0;
    if (mosquitto_publish(mosq_, &mid, topic.c_str(), static_cast<int>(payload.size()),
                          payload.data(), qos, retain) != MOSQ_ERR_SUCCESS) {
        throw std::runtime_error("publish failed");
    }
    std::unique_lock<std::mutex> lock(mutex_);
    const bool acked = cv_.wait_for(lock, std::chrono::seconds(10), [&] {
        return std::find(acked_.begin(), acked_.end(), mid) != acked_.end();
    });
    if (!acked) throw std::runtime_error("publish not acknowledged on " + topic);
}

void MqttClient::publish_nowait(const std::string& topic, const std::string& payload) {
    // MOSQ_ERR_NO_CONN still queues a QoS 1 message: it goes out after the reconnect.
    const int rc = mosquitto_publish(mosq_, nullptr, topic.c_str(),
                                     static_cast<int>(payload.size()), payload.data(), 1, false);
    if (rc != MOSQ_ERR_SUCCESS && rc != MOSQ_ERR_NO_CONN) {
        throw std::runtime_error(std::string("publish failed: ") + mosquitto_strerror(rc));
    }
}

std::optional<Message> MqttClient::wait_for(const std::string& topic, const Predicate& predicate,
                                            std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mutex_);
    std::optional<Message> found;
    cv_.wait_for(lock, timeout, [&] {
        for (const auto& m : messages_) {
            if (m.topic == topic && predicate(m)) {
                found = m;
                return true;
            }
        }
        return false;
    });
    return found;
}

std::vector<Message> MqttClient::wait_for_count(const std::string& topic, std::size_t count,
                                                const Predicate& predicate,
                                                std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mutex_);
    std::vector<Message> found;
    cv_.wait_for(lock, timeout, [&] {
        found.clear();
        for (const auto& m : messages_) {
            if (m.topic == topic && predicate(m)) found.push_back(m);
        }
        return found.size() >= count;
    });
    return found;
}

std::vector<Message> MqttClient::all_messages() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return messages_;
}

std::vector<Message> MqttClient::messages(const std::string& topic) const {
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<Message> out;
    for (const auto& m : messages_) {
        if (m.topic == topic) out.push_back(m);
    }
    return out;
}

void MqttClient::clear() {
    std::lock_guard<std::mutex> lock(mutex_);
    messages_.clear();
}

// A clean session forgets subscriptions with the connection: after a broker restart the
// client subscribes again (the first connect has none yet).
void MqttClient::on_connect(mosquitto* mosq, void* self, int rc) {
    if (rc != 0) return;
    auto* client = static_cast<MqttClient*>(self);
    std::vector<std::pair<std::string, int>> filters;
    {
        std::lock_guard<std::mutex> lock(client->mutex_);
        filters = client->filters_;
    }
    for (const auto& [filter, qos] : filters) {
        mosquitto_subscribe(mosq, nullptr, filter.c_str(), qos);
    }
}

void MqttClient::on_message(mosquitto*, void* self, const mosquitto_message* m) {
    auto* client = static_cast<MqttClient*>(self);
    Message msg;
    msg.topic = m->topic;
    if (m->payloadlen > 0) {
        msg.payload.assign(static_cast<const char*>(m->payload),
                           static_cast<std::size_t>(m->payloadlen));
    }
    msg.retain = m->retain;
    msg.received = std::chrono::steady_clock::now();
    {
        std::lock_guard<std::mutex> lock(client->mutex_);
        client->messages_.push_back(std::move(msg));
    }
    client->cv_.notify_all();
}

void MqttClient::on_subscribe(mosquitto*, void* self, int mid, int, const int*) {
    on_publish(nullptr, self, mid);
}

void MqttClient::on_publish(mosquitto*, void* self, int mid) {
    auto* client = static_cast<MqttClient*>(self);
    {
        std::lock_guard<std::mutex> lock(client->mutex_);
        client->acked_.push_back(mid);
    }
    client->cv_.notify_all();
}

Predicate with_request_id(const std::string& id) {
    return [id](const Message& m) { return m.str("request_id") == id; };
}

Predicate any_message() {
    return [](const Message&) { return true; };
}

}  // namespace lucid::itest
