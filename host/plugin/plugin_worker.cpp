#include "plugin/plugin_worker.hpp"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>

#include "plugin/crash_record.hpp"

namespace lucid::host {

struct PluginWorker::State {
    struct Timer {
        Clock::time_point due;
        std::chrono::milliseconds period;
        std::shared_ptr<Task> task;
    };

    struct Queued {
        std::uint64_t tag;
        std::string what;
        Task task;
        Task on_drop;           // offer()'s, run when close() drops the task
        std::size_t bytes = 0;  // counted against limits.max_bytes
        bool counted = false;   // an offer(): counted against the limits
    };

    std::mutex mutex;
    std::condition_variable wake;  // new task, timer change, close
    std::condition_variable idle;  // a task finished, or the thread ended
    std::deque<Queued> queue;
    Limits limits;
    std::size_t offered_tasks = 0;  // queued tasks that came through offer()
    std::size_t offered_bytes = 0;  // and their bytes
    std::map<std::uint64_t, Timer> timers;
    std::uint64_t running_tag = 0;
    bool running = false;
    Busy current;  // meaningful while `running`
    bool closed = false;
    bool finished = false;
    std::uint64_t last_id = 0;
    std::string name;
    std::string crash_identity;  // crash_record.hpp; empty: not a plugin's worker

    // Takes the next runnable task (a due timer first, then the queue), or waits for one.
    bool next(std::uint64_t& tag, Task& task, std::string& what_out) {
        std::unique_lock<std::mutex> lock(mutex);
        for (;;) {
            if (closed) return false;
            auto now = Clock::now();
            auto earliest = timers.end();
            for (auto it = timers.begin(); it != timers.end(); ++it) {
                if (earliest == timers.end() || it->second.due < earliest->second.due)
                    earliest = it;
            }
            std::string what;
            if (earliest != timers.end() && earliest->second.due <= now) {
                tag = earliest->first;
                what = "timer";
                auto shared = earliest->second.task;
                task = [shared] { (*shared)(); };
                if (earliest->second.period.count() > 0) {
                    // Skip missed ticks instead of firing a burst after a slow handler.
                    earliest->second.due = std::max(earliest->second.due + earliest->second.period,
                                                    now + std::chrono::milliseconds(1));
                } else {
                    timers.erase(earliest);
                }
            } else if (!queue.empty()) {
                tag = queue.front().tag;
                what = std::move(queue.front().what);
                task = std::move(queue.front().task);
                uncount(queue.front());
                queue.pop_front();
            } else if (earliest != timers.end()) {
                // A copy: the timer may be cancelled (erased) while we wait.
                const Clock::time_point due = earliest->second.due;
                wake.wait_until(lock, due);
                continue;
            } else {
                wake.wait(lock);
                continue;
            }
            running = true;
            running_tag = tag;
            current = Busy{std::move(what), Clock::now(), current.serial + 1};
            what_out = current.what;
            return true;
        }
    }

    void uncount(const Queued& queued) {
        if (!queued.counted) return;
        --offered_tasks;
        offered_bytes -= queued.bytes;
    }

    void done() {
        std::lock_guard<std::mutex> lock(mutex);
        running = false;
        running_tag = 0;
        idle.notify_all();
    }
};

PluginWorker::PluginWorker(std::string name, std::string crash_identity)
    : PluginWorker(std::move(name), std::move(crash_identity), Limits{0, 0}) {}

PluginWorker::PluginWorker(std::string name, std::string crash_identity, Limits limits)
    : state_(std::make_shared<State>()) {
    state_->name = std::move(name);
    state_->crash_identity = std::move(crash_identity);
    state_->limits = limits;
    thread_ = std::thread([state = state_] {
        const crash::SignalStack signal_stack;  // a stack overflow in the plugin is recorded too
        std::uint64_t tag = 0;
        Task task;
        std::string what;
        while (state->next(tag, task, what)) {
            {
                // Prepared here, before the plugin runs: the fatal-signal handler only reads it.
                std::optional<crash::InPluginCall> in_call;
                if (!state->crash_identity.empty()) {
                    in_call.emplace(state->crash_identity, crash::callback_name(what));
                }
                try {
                    task();
                } catch (...) {  // tasks are wrapped by their owner; this only keeps it alive
                }
                task = nullptr;  // destroy captures before reporting idle
            }
            state->done();
        }
        std::lock_guard<std::mutex> lock(state->mutex);
        state->finished = true;
        state->idle.notify_all();
    });
}

PluginWorker::~PluginWorker() {
    close();
    if (thread_.joinable()) {
        if (on_worker_thread()) {
            thread_.detach();  // destroyed from its own task: cannot join itself
        } else {
            thread_.join();
        }
    }
}

bool PluginWorker::post(Task task, std::uint64_t tag, std::string what) {
    std::lock_guard<std::mutex> lock(state_->mutex);
    if (state_->closed) return false;
    state_->queue.push_back(
        State::Queued{tag, std::move(what), std::move(task), nullptr, 0, false});
    state_->wake.notify_all();
    return true;
}

PluginWorker::Offer PluginWorker::offer(Task task, std::uint64_t tag, std::string what,
                                        std::size_t bytes, Task on_drop) {
    std::lock_guard<std::mutex> lock(state_->mutex);
    if (state_->closed) return Offer::closed;
    const Limits& limits = state_->limits;
    if ((limits.max_tasks > 0 && state_->offered_tasks + 1 > limits.max_tasks) ||
        (limits.max_bytes > 0 && state_->offered_bytes + bytes > limits.max_bytes)) {
        return Offer::full;
    }
    ++state_->offered_tasks;
    state_->offered_bytes += bytes;
    state_->queue.push_back(
        State::Queued{tag, std::move(what), std::move(task), std::move(on_drop), bytes, true});
    state_->wake.notify_all();
    return Offer::queued;
}

bool PluginWorker::run_and_wait(Task task, std::chrono::milliseconds timeout, std::string what,
                                Place place) {
    if (on_worker_thread()) {
        task();
        return true;
    }
    // The flag is shared so that a task finishing after a timeout writes into live memory.
    auto done = std::make_shared<bool>(false);
    auto state = state_;
    Task wrapped = [task = std::move(task), done, state] {
        task();
        std::lock_guard<std::mutex> lock(state->mutex);
        *done = true;
        state->idle.notify_all();
    };
    std::unique_lock<std::mutex> lock(state_->mutex);
    if (state_->closed) return false;
    State::Queued queued{0, std::move(what), std::move(wrapped), nullptr, 0, false};
    if (place == Place::front) {
        state_->queue.push_front(std::move(queued));
    } else {
        state_->queue.push_back(std::move(queued));
    }
    state_->wake.notify_all();
    return state_->idle.wait_for(lock, timeout, [&] {
        return *done || (state_->closed && !state_->running);
    }) && *done;
}

std::uint64_t PluginWorker::start_timer(std::chrono::milliseconds first,
                                        std::chrono::milliseconds period, Task task) {
    std::lock_guard<std::mutex> lock(state_->mutex);
    if (state_->closed) return 0;
    std::uint64_t id = ++state_->last_id;
    state_->timers[id] =
        State::Timer{Clock::now() + first, period, std::make_shared<Task>(std::move(task))};
    state_->wake.notify_all();
    return id;
}

bool PluginWorker::cancel_timer(std::uint64_t id, bool wait) {
    bool found = false;
    {
        std::lock_guard<std::mutex> lock(state_->mutex);
        found = state_->timers.erase(id) > 0;
        // A one-shot timer that is running right now was already erased; still wait for it.
        found = found || (state_->running && state_->running_tag == id);
    }
    if (wait) wait_idle(id);
    return found;
}

void PluginWorker::cancel_all_timers() {
    std::map<std::uint64_t, State::Timer> dropped;  // destroyed outside the lock
    std::lock_guard<std::mutex> lock(state_->mutex);
    dropped.swap(state_->timers);
}

void PluginWorker::wait_idle(std::uint64_t tag) {
    if (tag == 0 || on_worker_thread()) return;
    std::unique_lock<std::mutex> lock(state_->mutex);
    state_->idle.wait(lock, [&] { return !(state_->running && state_->running_tag == tag); });
}

std::optional<PluginWorker::Busy> PluginWorker::busy() const {
    std::lock_guard<std::mutex> lock(state_->mutex);
    if (!state_->running) return std::nullopt;
    return state_->current;
}

namespace {

// Outside the worker's lock: an on_drop answers a command, through the agent.
void run_on_drop(std::deque<PluginWorker::Task>& on_drops) {
    for (auto& on_drop : on_drops) {
        try {
            on_drop();
        } catch (...) {  // like tasks: wrapped by their owner; this only keeps dropping going
        }
    }
}

}  // namespace

void PluginWorker::drop_offered() {
    std::deque<State::Queued> dropped;  // destroyed outside the lock
    std::deque<Task> on_drops;
    {
        std::lock_guard<std::mutex> lock(state_->mutex);
        auto& queue = state_->queue;
        for (auto it = queue.begin(); it != queue.end();) {
            if (!it->counted) {
                ++it;
                continue;
            }
            if (it->on_drop) on_drops.push_back(std::move(it->on_drop));
            dropped.push_back(std::move(*it));
            it = queue.erase(it);
        }
        state_->offered_tasks = 0;
        state_->offered_bytes = 0;
    }
    run_on_drop(on_drops);
}

void PluginWorker::close() {
    std::deque<State::Queued> dropped;  // destroyed outside the lock
    std::map<std::uint64_t, State::Timer> dropped_timers;
    std::deque<Task> on_drops;
    {
        std::lock_guard<std::mutex> lock(state_->mutex);
        state_->closed = true;
        dropped.swap(state_->queue);
        dropped_timers.swap(state_->timers);
        state_->offered_tasks = 0;
        state_->offered_bytes = 0;
        for (auto& queued : dropped) {
            if (queued.on_drop) on_drops.push_back(std::move(queued.on_drop));
        }
        state_->wake.notify_all();
    }
    run_on_drop(on_drops);
}

bool PluginWorker::shutdown(std::chrono::milliseconds timeout) {
    close();
    if (!thread_.joinable()) return true;
    if (on_worker_thread()) return false;
    std::unique_lock<std::mutex> lock(state_->mutex);
    bool ended = state_->idle.wait_for(lock, timeout, [&] { return state_->finished; });
    lock.unlock();
    if (ended) {
        thread_.join();
    } else {
        thread_.detach();  // stuck in plugin code: the caller must keep the library mapped
    }
    return ended;
}

void PluginWorker::detach() {
    if (thread_.joinable() && !on_worker_thread()) thread_.detach();
}

std::uint64_t PluginWorker::next_id() {
    std::lock_guard<std::mutex> lock(state_->mutex);
    return ++state_->last_id;
}

}  // namespace lucid::host
