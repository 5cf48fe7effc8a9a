// A PluginHostServices that records what plugins do, for tests without a broker. Waiting is on
// events with a deadline, never a sleep.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "plugin/plugin_host_services.hpp"

namespace lucid::test {

class FakeHostServices : public host::PluginHostServices {
  public:
    struct Published {
        std::string topic, payload;
        int qos;
        bool retain;
    };

    bool publish(const std::string& topic, const std::string& payload, int qos,
                 bool retain) override {
        std::lock_guard<std::mutex> lock(mutex_);
        published_.push_back({topic, payload, qos, retain});
        changed_.notify_all();
        return true;
    }
    // publish_metric readings, as "<cid>/<metric>" -> (value, unit), in order.
    struct Metric {
        std::string component_id, metric;
        double value;
        std::string unit;
    };
    bool publish_metric(const std::string& cid, const std::string& metric, double value,
                        const std::string& unit) override {
        std::lock_guard<std::mutex> lock(mutex_);
        metrics_.push_back({cid, metric, value, unit});
        changed_.notify_all();
        return true;
    }
    // The readings so far, once there are at least `n` (waits up to `timeout`).
    std::vector<Metric> wait_for_metrics(
        std::size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
        std::unique_lock<std::mutex> lock(mutex_);
        changed_.wait_for(lock, timeout, [&] { return metrics_.size() >= n; });
        return metrics_;
    }
    void subscribe(const std::string& cid, std::uint64_t, const std::string& filter, int) override {
        std::lock_guard<std::mutex> lock(mutex_);
        subscriptions_.insert({cid, filter});
    }
    void unsubscribe(const std::string& cid, std::uint64_t, const std::string& filter) override {
        std::lock_guard<std::mutex> lock(mutex_);
        auto it = subscriptions_.find(cid);
        while (it != subscriptions_.end() && it->first == cid && it->second != filter) ++it;
        if (it != subscriptions_.end() && it->first == cid) subscriptions_.erase(it);
    }
    std::chrono::system_clock::time_point now() override {
        return std::chrono::system_clock::now();
    }
    std::string agent_id() override { return "dev1"; }
    std::string base_topic() override { return "lucid/agents/dev1"; }
    void status_changed(const std::string& cid, const host::ComponentStatus& status) override {
        std::lock_guard<std::mutex> lock(mutex_);
        statuses_.push_back({cid, status});
        changed_.notify_all();
    }
    std::string read_config(const std::string& cid) override {
        std::lock_guard<std::mutex> lock(mutex_);
        auto it = configs_.find(cid);
        return it == configs_.end() ? "{}" : it->second;
    }
    host::Status persist_config(const std::string& cid, const std::string& json) override {
        std::lock_guard<std::mutex> lock(mutex_);
        if (!persist_error_.empty()) return host::Error{host::Errc::io, persist_error_};
        configs_[cid] = json;
        return host::done();
    }
    // From now on persist_config() stores nothing and answers `error` ("" stores again).
    void fail_persist(const std::string& error) {
        std::lock_guard<std::mutex> lock(mutex_);
        persist_error_ = error;
    }

    // The first message published on `topic` (waits up to `timeout`), or nullptr.
    std::unique_ptr<Published> wait_for_publish(
        const std::string& topic, std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
        std::unique_lock<std::mutex> lock(mutex_);
        const Published* found = nullptr;
        changed_.wait_for(lock, timeout, [&] {
            for (const auto& p : published_) {
                if (p.topic == topic) {
                    found = &p;
                    return true;
                }
            }
            return false;
        });
        return found ? std::make_unique<Published>(*found) : nullptr;
    }
    // The payloads on `topic` once there are at least `n` (waits up to `timeout`).
    std::vector<std::string> wait_for_count(
        const std::string& topic, std::size_t n,
        std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
        std::unique_lock<std::mutex> lock(mutex_);
        changed_.wait_for(lock, timeout, [&] {
            std::size_t found = 0;
            for (const auto& p : published_) found += p.topic == topic;
            return found >= n;
        });
        std::vector<std::string> out;
        for (const auto& p : published_) {
            if (p.topic == topic) out.push_back(p.payload);
        }
        return out;
    }
    std::vector<std::string> payloads_on(const std::string& topic) {
        std::lock_guard<std::mutex> lock(mutex_);
        std::vector<std::string> out;
        for (const auto& p : published_) {
            if (p.topic == topic) out.push_back(p.payload);
        }
        return out;
    }
    std::size_t count_published(const std::string& topic) {
        std::lock_guard<std::mutex> lock(mutex_);
        std::size_t n = 0;
        for (const auto& p : published_) n += p.topic == topic;
        return n;
    }
    std::size_t subscription_count(const std::string& cid) {
        std::lock_guard<std::mutex> lock(mutex_);
        return subscriptions_.count(cid);
    }
    std::vector<std::pair<std::string, host::ComponentStatus>> statuses() {
        std::lock_guard<std::mutex> lock(mutex_);
        return statuses_;
    }
    void set_config(const std::string& cid, const std::string& json) {
        std::lock_guard<std::mutex> lock(mutex_);
        configs_[cid] = json;
    }

  private:
    std::mutex mutex_;
    std::condition_variable changed_;
    std::vector<Published> published_;
    std::vector<Metric> metrics_;
    std::multimap<std::string, std::string> subscriptions_;
    std::vector<std::pair<std::string, host::ComponentStatus>> statuses_;
    std::map<std::string, std::string> configs_;
    std::string persist_error_;
};

}  // namespace lucid::test
