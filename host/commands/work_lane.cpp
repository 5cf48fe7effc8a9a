#include "commands/work_lane.hpp"

#include "common/logging.hpp"

namespace lucid::host::commands {

WorkLane::WorkLane(std::string name, std::size_t capacity)
    : name_(std::move(name)), capacity_(capacity), worker_([this] { run(); }) {}

WorkLane::~WorkLane() { stop(); }

bool WorkLane::post(std::function<void()> task, std::function<void()> on_drop) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (stopping_ || queue_.size() >= capacity_) return false;
        queue_.push_back({std::move(task), std::move(on_drop)});
    }
    cv_.notify_one();
    return true;
}

void WorkLane::stop() {
    close();
    if (worker_.joinable() && worker_.get_id() != std::this_thread::get_id()) worker_.join();
}

void WorkLane::close() {
    std::deque<Queued> dropped;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stopping_ = true;
        dropped.swap(queue_);
    }
    cv_.notify_all();
    for (auto& queued : dropped) {
        if (queued.on_drop) guarded(queued.on_drop);
    }
}

void WorkLane::guarded(const std::function<void()>& task) {
    try {
        task();
    } catch (const std::exception& e) {
        logger("commands")->error("task on lane {} threw: {}", name_, e.what());
    } catch (...) {
        logger("commands")->error("task on lane {} threw a non-exception", name_);
    }
}

void WorkLane::run() {
    while (true) {
        std::function<void()> task;
        {
            std::unique_lock<std::mutex> lock(mutex_);
            cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
            if (stopping_) return;
            task = std::move(queue_.front().task);
            queue_.pop_front();
        }
        guarded(task);
    }
}

}  // namespace lucid::host::commands
