#include "commands/work_lane.hpp"

#include "common/logging.hpp"

namespace lucid::host::commands {

WorkLane::WorkLane(std::string name, std::size_t capacity)
    : name_(std::move(name)), capacity_(capacity), worker_([this] { run(); }) {}

WorkLane::~WorkLane() { stop(); }

bool WorkLane::post(std::function<void()> task) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (stopping_ || queue_.size() >= capacity_) return false;
        queue_.push_back(std::move(task));
    }
    cv_.notify_one();
    return true;
}

void WorkLane::stop() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stopping_ = true;
        queue_.clear();
    }
    cv_.notify_all();
    if (worker_.joinable() && worker_.get_id() != std::this_thread::get_id()) worker_.join();
}

void WorkLane::run() {
    while (true) {
        std::function<void()> task;
        {
            std::unique_lock<std::mutex> lock(mutex_);
            cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
            if (stopping_) return;
            task = std::move(queue_.front());
            queue_.pop_front();
        }
        try {
            task();
        } catch (const std::exception& e) {
            logger("commands")->error("task on lane {} threw: {}", name_, e.what());
        } catch (...) {
            logger("commands")->error("task on lane {} threw a non-exception", name_);
        }
    }
}

}  // namespace lucid::host::commands
