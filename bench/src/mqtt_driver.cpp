#include "mqtt_driver.hpp"

#include <mosquitto.h>
#include <rapidjson/document.h>

#include <stdexcept>

namespace lucid::bench {

MqttDriver::MqttDriver(int port, const std::string& client_id) {
    static const int init = mosquitto_lib_init();
    (void)init;
    mosq_ = mosquitto_new(client_id.c_str(), true, this);
    if (mosq_ == nullptr) throw std::runtime_error("mosquitto_new failed");
    mosquitto_int_option(mosq_, MOSQ_OPT_TCP_NODELAY, 1);
    mosquitto_message_callback_set(mosq_, &MqttDriver::on_message);
    mosquitto_publish_callback_set(mosq_, &MqttDriver::on_ack);
    mosquitto_subscribe_callback_set(mosq_, &MqttDriver::on_subscribe);
    // Pipelined runs keep up to 64 commands in flight; the client must not hold them back.
    mosquitto_int_option(mosq_, MOSQ_OPT_SEND_MAXIMUM, 1000);
    mosquitto_max_inflight_messages_set(mosq_, 1000);
    if (mosquitto_connect(mosq_, "127.0.0.1", port, 60) != MOSQ_ERR_SUCCESS) {
        mosquitto_destroy(mosq_);
        throw std::runtime_error("bench driver cannot connect to port " + std::to_string(port));
    }
    mosquitto_loop_start(mosq_);
}

MqttDriver::~MqttDriver() {
    mosquitto_disconnect(mosq_);
    mosquitto_loop_stop(mosq_, false);
    mosquitto_destroy(mosq_);
}

void MqttDriver::subscribe(const std::string& filter, int qos) {
    int mid = 0;
    if (mosquitto_subscribe(mosq_, &mid, filter.c_str(), qos) != MOSQ_ERR_SUCCESS) {
        throw std::runtime_error("subscribe failed: " + filter);
    }
    std::unique_lock<std::mutex> lock(mutex_);
    if (!cv_.wait_for(lock, std::chrono::seconds(10), [&] { return acked_.count(mid) > 0; })) {
        throw std::runtime_error("no SUBACK for " + filter);
    }
    acked_.erase(mid);
}

void MqttDriver::publish(const std::string& topic, const std::string& payload, int qos,
                         bool retain) {
    const int rc = mosquitto_publish(mosq_, nullptr, topic.c_str(),
                                     static_cast<int>(payload.size()), payload.data(), qos, retain);
    if (rc != MOSQ_ERR_SUCCESS) {
        throw std::runtime_error("publish on " + topic + " failed: " + mosquitto_strerror(rc));
    }
}

void MqttDriver::publish_acked(const std::string& topic, const std::string& payload,
                               std::chrono::milliseconds timeout) {
    int mid = 0;
    const int rc = mosquitto_publish(mosq_, &mid, topic.c_str(), static_cast<int>(payload.size()),
                                     payload.data(), 1, false);
    if (rc != MOSQ_ERR_SUCCESS) throw std::runtime_error("publish on " + topic + " failed");
    std::unique_lock<std::mutex> lock(mutex_);
    if (!cv_.wait_for(lock, timeout, [&] { return acked_.count(mid) > 0; })) {
        throw std::runtime_error("no PUBACK on " + topic);
    }
    acked_.erase(mid);
}

std::optional<Received> MqttDriver::wait_for(const std::function<bool(const Received&)>& pred,
                                             std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mutex_);
    std::optional<Received> found;
    cv_.wait_for(lock, timeout, [&] {
        for (auto it = inbox_.begin(); it != inbox_.end(); ++it) {
            if (pred(*it)) {
                found = std::move(*it);
                inbox_.erase(it);
                return true;
            }
        }
        return false;
    });
    return found;
}

void MqttDriver::set_tap(std::function<bool(const Received&)> tap) {
    std::lock_guard<std::mutex> lock(tap_mutex_);
    tap_ = std::move(tap);
}

void MqttDriver::clear() {
    std::lock_guard<std::mutex> lock(mutex_);
    inbox_.clear();
}

void MqttDriver::on_message(mosquitto*, void* self, const mosquitto_message* m) {
    auto* d = static_cast<MqttDriver*>(self);
    Received r;
    r.at = Clock::now();
    r.topic = m->topic;
    if (m->payloadlen > 0) {
        r.payload.assign(static_cast<const char*>(m->payload),
                         static_cast<std::size_t>(m->payloadlen));
    }
    r.retain = m->retain;
    {
        std::lock_guard<std::mutex> lock(d->tap_mutex_);
        if (d->tap_ && d->tap_(r)) return;
    }
    {
        std::lock_guard<std::mutex> lock(d->mutex_);
        d->inbox_.push_back(std::move(r));
    }
    d->cv_.notify_all();
}

void MqttDriver::on_ack(mosquitto*, void* self, int mid) {
    auto* d = static_cast<MqttDriver*>(self);
    {
        std::lock_guard<std::mutex> lock(d->mutex_);
        d->acked_.insert(mid);
    }
    d->cv_.notify_all();
}

void MqttDriver::on_subscribe(mosquitto* m, void* self, int mid, int, const int*) {
    on_ack(m, self, mid);
}

namespace {

bool parse(const std::string& json, rapidjson::Document& doc) {
    doc.Parse(json.c_str(), json.size());
    return !doc.HasParseError() && doc.IsObject();
}

}  // namespace

std::string json_string(const std::string& json, const char* key) {
    rapidjson::Document doc;
    if (!parse(json, doc)) return "";
    auto it = doc.FindMember(key);
    if (it == doc.MemberEnd() || !it->value.IsString()) return "";
    return {it->value.GetString(), it->value.GetStringLength()};
}

unsigned long long json_uint(const std::string& json, const char* key) {
    rapidjson::Document doc;
    if (!parse(json, doc)) return 0;
    auto it = doc.FindMember(key);
    if (it == doc.MemberEnd() || !it->value.IsUint64()) return 0;
    return it->value.GetUint64();
}

bool json_true(const std::string& json, const char* key) {
    rapidjson::Document doc;
    if (!parse(json, doc)) return false;
    auto it = doc.FindMember(key);
    return it != doc.MemberEnd() && it->value.IsBool() && it->value.GetBool();
}

bool has_request_id(const std::string& payload, const std::string& id) {
    return payload.find("\"request_id\":\"" + id + "\"") != std::string::npos;
}

}  // namespace lucid::bench
