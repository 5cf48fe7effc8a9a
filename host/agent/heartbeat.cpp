#include "agent/heartbeat.hpp"

#include "common/logging.hpp"

namespace lucid::host::agent {

Heartbeat::Heartbeat(std::function<void()> beat, std::chrono::milliseconds period)
    : beat_(std::move(beat)), period_(period) {}

Heartbeat::~Heartbeat() { stop(); }

void Heartbeat::start() {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = false;
    thread_ = std::thread([this] { run(); });
}

void Heartbeat::stop() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
}

void Heartbeat::set_period(std::chrono::milliseconds period) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        period_ = period;
    }
    cv_.notify_all();  // the waiting thread recomputes its deadline from the new period
}

void Heartbeat::run() {
    auto last = std::chrono::steady_clock::now();
    std::unique_lock<std::mutex> lock(mutex_);
    while (!stopping_) {
        const auto due = last + period_;
        if (std::chrono::steady_clock::now() < due) {
            // Woken early by set_period or stop: loop to re-evaluate the deadline.
            cv_.wait_until(lock, due);
            continue;
        }
        last = std::chrono::steady_clock::now();
        lock.unlock();
        try {
            beat_();
        } catch (const std::exception& e) {
            logger("agent")->error("heartbeat failed: {}", e.what());
        }
        lock.lock();
    }
}

}  // namespace lucid::host::agent
