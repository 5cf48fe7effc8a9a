// A bounded queue drained by one worker thread: how commands leave the network thread.
//
// The agent runs one lane for fast commands (ping, refresh, cfg/set, restart) and one for slow
// ones (install, ...), so that a download never delays a ping. One worker per lane keeps the
// commands of a lane in arrival order, which also makes a redelivered duplicate wait for the
// first copy's result instead of racing it.
//
// Thread: post() from any thread (it never blocks: the network thread calls it); tasks run on
// the lane's worker. A task that throws is logged and the worker goes on.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace lucid::host::commands {

class WorkLane {
  public:
    WorkLane(std::string name, std::size_t capacity);
    ~WorkLane();  // stop()
    WorkLane(const WorkLane&) = delete;
    WorkLane& operator=(const WorkLane&) = delete;

    // False (and the task is dropped) when the queue is full or the lane stopped. `on_drop`,
    // when given, runs instead of `task` if stop() finds the task still queued (on the thread
    // that calls stop()), so that whoever waits for the task can be told.
    bool post(std::function<void()> task, std::function<void()> on_drop = {});
    // Takes no more tasks and drops the queued ones (running their on_drop); the running task
    // goes on. Idempotent.
    void close();
    // close(), then waits for the running task and joins the worker. Idempotent.
    void stop();

    const std::string& name() const { return name_; }

  private:
    void run();
    void guarded(const std::function<void()>& task);  // runs it; logs what it throws

    std::string name_;
    std::size_t capacity_;
    std::mutex mutex_;
    std::condition_variable cv_;
    struct Queued {
        std::function<void()> task;
        std::function<void()> on_drop;
    };
    std::deque<Queued> queue_;
    bool stopping_ = false;
    std::thread worker_;
};

}  // namespace lucid::host::commands
