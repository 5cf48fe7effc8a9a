// Download progress of one request (install_progress, upgrade_progress; contract §4.1, §4.16),
// published at most every kProgressInterval and once at the end.
//
// Thread: the command's lane (one caller).
#pragma once

#include <chrono>
#include <string>

#include "components/component_commands.hpp"
#include "contract/payloads.hpp"
#include "mqtt/mqtt_session.hpp"

namespace lucid::host::components {

class ProgressPublisher {
  public:
    ProgressPublisher(mqtt::MqttSession& session, std::string topic, std::string request_id)
        : session_(session), topic_(std::move(topic)), request_id_(std::move(request_id)) {}

    void operator()(const std::string& phase, std::uint64_t bytes, std::uint64_t total) {
        const auto now = std::chrono::steady_clock::now();
        const bool done = total > 0 && bytes >= total;
        if (!done && now - last_ < kProgressInterval) return;
        if (done && bytes == last_bytes_) return;
        last_ = now;
        last_bytes_ = bytes;
        session_.publish(topic_,
                         contract::install_progress_payload(request_id_, phase, bytes, total,
                                                            std::chrono::system_clock::now()),
                         1, false);
    }

  private:
    mqtt::MqttSession& session_;
    std::string topic_;
    std::string request_id_;
    std::chrono::steady_clock::time_point last_{};
    std::uint64_t last_bytes_ = 0;
};

}  // namespace lucid::host::components
