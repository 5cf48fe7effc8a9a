#include "mqtt_client.hpp"

#include <stdexcept>

#include <mosquitto.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace lucid::test {
namespace {

// The field `key` of the JSON object `json`, or nullptr (not an object, or no such field).
const rapidjson::Value* field(rapidjson::Document& doc, const std::string& json, const char* key) {
    doc.Parse(json.c_str(), json.size());
    if (doc.HasParseError() || !doc.IsObject()) return nullptr;
    auto it = doc.FindMember(key);
    return it == doc.MemberEnd() ? nullptr : &it->value;
}

}  // namespace

rapidjson::Document Message::json() const {
    rapidjson::Document doc;
    doc.Parse(payload.c_str(), payload.size());
    if (doc.HasParseError() || !doc.IsObject()) {
        throw std::runtime_error("not a JSON object on " + topic + ": " + payload);
    }
    return doc;
}

std::string Message::str(const char* key) const { return string_field(payload, key); }

std::string Message::json_text(const char* key) const {
    rapidjson::Document doc;
    const rapidjson::Value* v = field(doc, payload, key);
    if (!v) return "";
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
    v->Accept(writer);
    return {buffer.GetString(), buffer.GetSize()};
}

std::string string_field(const std::string& json, const char* key) {
    rapidjson::Document doc;
    const rapidjson::Value* v = field(doc, json, key);
    if (!v || !v->IsString()) return "";
    return {v->GetString(), v->GetStringLength()};
}

unsigned long long uint_field(const std::string& json, const char* key) {
    rapidjson::Document doc;
    const rapidjson::Value* v = field(doc, json, key);
    return v && v->IsUint64() ? v->GetUint64() : 0;
}

bool true_field(const std::string& json, const char* key) {
    rapidjson::Document doc;
    const rapidjson::Value* v = field(doc, json, key);
    return v && v->IsBool() && v->GetBool();
}

MqttClient::MqttClient(int port, std::string client_id, std::string username, std::string password,
                       std::string ca_file) {
    static const int init = mosquitto_lib_init();
    (void)init;
    mosq_ = mosquitto_new(client_id.empty() ? nullptr : client_id.c_str(), true, this);
    if (mosq_ == nullptr) throw std::runtime_error("mosquitto_new failed");
    mosquitto_int_option(mosq_, MOSQ_OPT_TCP_NODELAY, 1);
    // The bench's pipelined runs keep up to 64 commands in flight; the client must not hold
    // them back.
    mosquitto_int_option(mosq_, MOSQ_OPT_SEND_MAXIMUM, 1000);
    mosquitto_max_inflight_messages_set(mosq_, 1000);
    mosquitto_connect_callback_set(mosq_, &MqttClient::on_connect);
    mosquitto_message_callback_set(mosq_, &MqttClient::on_message);
    mosquitto_subscribe_callback_set(mosq_, &MqttClient::on_subscribe);
    mosquitto_publish_callback_set(mosq_, &MqttClient::on_publish);
    if (!username.empty()) {
        mosquitto_username_pw_set(mosq_, username.c_str(), password.c_str());
    }
    if (!ca_file.empty())
        mosquitto_tls_set(mosq_, ca_file.c_str(), nullptr, nullptr, nullptr, nullptr);
    if (mosquitto_connect(mosq_, "127.0.0.1", port, 60) != MOSQ_ERR_SUCCESS) {
        mosquitto_destroy(mosq_);
        throw std::runtime_error("MQTT client cannot connect to port " + std::to_string(port));
    }
    mosquitto_loop_start(mosq_);
}

MqttClient::~MqttClient() {
    mosquitto_disconnect(mosq_);
    mosquitto_loop_stop(mosq_, false);
    mosquitto_destroy(mosq_);
}

void MqttClient::wait_acked(int mid, std::chrono::milliseconds timeout, const std::string& what) {
    std::unique_lock<std::mutex> lock(mutex_);
    if (!cv_.wait_for(lock, timeout, [&] { return acked_.count(mid) > 0; })) {
        throw std::runtime_error(what);
    }
    acked_.erase(mid);
}

void MqttClient::subscribe(const std::string& filter, int qos) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        filters_.emplace_back(filter, qos);
    }
    int mid = 0;
    if (mosquitto_subscribe(mosq_, &mid, filter.c_str(), qos) != MOSQ_ERR_SUCCESS) {
        throw std::runtime_error("subscribe failed: " + filter);
    }
    wait_acked(mid, std::chrono::seconds(10), "no SUBACK for " + filter);
}

void MqttClient::publish(const std::string& topic, const std::string& payload, int qos, bool retain,
                         std::chrono::milliseconds timeout) {
    int mid = 0;
    const int rc = mosquitto_publish(mosq_, &mid, topic.c_str(), static_cast<int>(payload.size()),
                                     payload.data(), qos, retain);
    if (rc != MOSQ_ERR_SUCCESS) {
        throw std::runtime_error("publish on " + topic + " failed: " + mosquitto_strerror(rc));
    }
    wait_acked(mid, timeout, "publish not acknowledged on " + topic);
}

void MqttClient::publish_nowait(const std::string& topic, const std::string& payload, int qos,
                                bool retain) {
    // MOSQ_ERR_NO_CONN still queues a QoS 1 message: it goes out after the reconnect.
    const int rc = mosquitto_publish(mosq_, nullptr, topic.c_str(),
                                     static_cast<int>(payload.size()), payload.data(), qos, retain);
    if (rc != MOSQ_ERR_SUCCESS && rc != MOSQ_ERR_NO_CONN) {
        throw std::runtime_error("publish on " + topic + " failed: " + mosquitto_strerror(rc));
    }
}

std::optional<Message> MqttClient::wait_for(const std::string& topic, const Predicate& predicate,
                                            std::chrono::milliseconds timeout) {
    return first([&](const Message& m) { return m.topic == topic && predicate(m); }, timeout,
                 false);
}

std::optional<Message> MqttClient::take(const Predicate& predicate,
                                        std::chrono::milliseconds timeout) {
    return first(predicate, timeout, true);
}

std::optional<Message> MqttClient::first(const Predicate& predicate,
                                         std::chrono::milliseconds timeout, bool remove) {
    std::unique_lock<std::mutex> lock(mutex_);
    std::optional<Message> found;
    cv_.wait_for(lock, timeout, [&] {
        for (auto it = messages_.begin(); it != messages_.end(); ++it) {
            if (predicate(*it)) {
                found = *it;
                if (remove) messages_.erase(it);
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
    return {messages_.begin(), messages_.end()};
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

void MqttClient::set_tap(Predicate tap) {
    std::lock_guard<std::mutex> lock(tap_mutex_);
    tap_ = std::move(tap);
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
    msg.received = std::chrono::steady_clock::now();
    msg.topic = m->topic;
    if (m->payloadlen > 0) {
        msg.payload.assign(static_cast<const char*>(m->payload),
                           static_cast<std::size_t>(m->payloadlen));
    }
    msg.retain = m->retain;
    {
        std::lock_guard<std::mutex> lock(client->tap_mutex_);
        if (client->tap_ && client->tap_(msg)) return;
    }
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
        client->acked_.insert(mid);
    }
    client->cv_.notify_all();
}

Predicate with_request_id(const std::string& id) {
    return [id](const Message& m) { return m.str("request_id") == id; };
}

Predicate any_message() {
    return [](const Message&) { return true; };
}

bool has_request_id(const std::string& payload, const std::string& id) {
    return payload.find("\"request_id\":\"" + id + "\"") != std::string::npos;
}

}  // namespace lucid::test
