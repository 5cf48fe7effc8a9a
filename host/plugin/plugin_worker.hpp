// One plugin's own thread: a serial FIFO of tasks plus timers, so that every callback of a
// plugin runs on one thread, in order, and a slow plugin delays only itself (never the MQTT
// network thread, never another plugin).
//
// Tasks carry a `tag` (a subscription or timer id). wait_idle(tag) lets unsubscribe/cancel,
// called from another thread, wait until a running task with that tag has finished: after
// it returns, the plugin's handler is neither running nor going to run.
//
// Tasks also carry `what` they are ("command 'x'", "message on <topic>", "timer", "start",
// ...): busy() tells another thread which task is running and since when, so that a health
// check can notice a plugin stuck in a callback (plugin_stall_watch.hpp) and name it.
//
// The plugin's own work (messages, commands: offer()) is bounded by Limits, in tasks and in
// bytes, so that a flood of slow commands or messages cannot grow the agent's memory without
// end: offer() refuses what does not fit. The host's own tasks (start, stop, config: post(),
// run_and_wait()) are never refused, and stop may jump the queue (Place::front).
//
// Thread: every member is safe from any thread. Tasks must not throw (they are wrapped by the
// caller); a task that throws anyway is caught and dropped so the worker survives.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>

namespace lucid::host {

class PluginWorker {
  public:
    using Task = std::function<void()>;
    using Clock = std::chrono::steady_clock;

    // The task running right now.
    struct Busy {
        std::string what;          // as given to post()/run_and_wait(); "timer" for timers
        Clock::time_point since;   // when it started
        std::uint64_t serial = 0;  // 1 for the first task the worker ran, 2 for the next...
    };

    // Bounds of the tasks offer() queues; 0 means unbounded.
    struct Limits {
        std::size_t max_tasks = 0;
        std::size_t max_bytes = 0;
    };
    enum class Offer { queued, full, closed };
    enum class Place { back, front };

    // `crash_identity` (crash_record.hpp, worker_identity()): set on a plugin's worker, every
    // task runs marked as that plugin's callback named after its `what`, so that a fatal signal
    // inside it is blamed on the plugin.
    explicit PluginWorker(std::string name, std::string crash_identity = {});
    PluginWorker(std::string name, std::string crash_identity, Limits limits);
    ~PluginWorker();  // close() + join
    PluginWorker(const PluginWorker&) = delete;
    PluginWorker& operator=(const PluginWorker&) = delete;

    // Queues a task of the host's own, outside the limits; false once closed.
    bool post(Task task, std::uint64_t tag = 0, std::string what = "task");

    // Queues a task of the plugin's work that weighs `bytes`, unless it would take the queued
    // ones past a limit (full) or the worker is closed. `on_drop`, when given, runs instead of
    // the task when close() drops it unrun (on the thread calling close(), no lock held), so
    // that a command queued still gets an answer.
    Offer offer(Task task, std::uint64_t tag, std::string what, std::size_t bytes,
                Task on_drop = nullptr);

    // Runs `task` on the worker and waits up to `timeout` for it. False when closed or timed
    // out (the task may then still run later: it must only touch what outlives the worker).
    // Place::front queues it before every task not yet started.
    bool run_and_wait(Task task, std::chrono::milliseconds timeout, std::string what = "task",
                      Place place = Place::back);

    // Starts a timer running `task` (tag = id) after `first`, then every `period` (zero: once).
    // Returns the timer id, or 0 when closed.
    std::uint64_t start_timer(std::chrono::milliseconds first, std::chrono::milliseconds period,
                              Task task);
    // Cancels a timer (with `wait`, waits for a running tick, except on the worker). False:
    // unknown id.
    bool cancel_timer(std::uint64_t id, bool wait = true);
    void cancel_all_timers();

    // Waits until no task with `tag` is running. Returns at once on the worker thread.
    void wait_idle(std::uint64_t tag);

    bool on_worker_thread() const { return std::this_thread::get_id() == thread_.get_id(); }

    // The task running now; nullopt when the worker is waiting for work (or has ended).
    std::optional<Busy> busy() const;

    // Drops the queued tasks that came through offer(), running their on_drop; the host's own
    // stay queued (a stop that jumps the queue first answers what it will never let run).
    void drop_offered();

    // Refuses new tasks and timers and drops queued ones that have not started. Queued tasks
    // are NOT run (their on_drop is): after close() nothing of the plugin starts any more.
    void close();
    // close() and wait up to `timeout` for the thread to end; false when it is stuck in a task
    // (the thread is then detached and left to finish on its own).
    bool shutdown(std::chrono::milliseconds timeout);
    // Detaches the thread without closing: what is queued (a stop stuck behind a hung callback)
    // still runs if the callback returns, and the thread then ends on its own, never joined.
    // For a worker whose owner is kept for ever (PluginContext::abandon). Not on the worker.
    void detach();

    // Ids for subscriptions and timers: unique per worker, never 0.
    std::uint64_t next_id();

  private:
    // Shared with the thread, so that a thread detached by shutdown() never outlives the state
    // it uses.
    struct State;
    std::shared_ptr<State> state_;
    std::thread thread_;
};

}  // namespace lucid::host
