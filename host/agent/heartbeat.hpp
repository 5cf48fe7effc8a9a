// Calls `beat` every period on its own thread (the agent republishes `status`). The period can
// change while running (cfg/set heartbeat_s): the next beat is then due one new period after
// the previous beat, or at once if that instant has already passed.
//
// Thread: start/stop from the owner; set_period from any thread; `beat` runs on the heartbeat
// thread and must not throw (exceptions are caught and logged).
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace lucid::host::agent {

class Heartbeat {
  public:
    Heartbeat(std::function<void()> beat, std::chrono::milliseconds period);
    ~Heartbeat();  // stop()

    void start();
    void stop();
    void set_period(std::chrono::milliseconds period);

  private:
    void run();

    std::function<void()> beat_;
    std::mutex mutex_;
    std::condition_variable cv_;
    std::chrono::milliseconds period_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace lucid::host::agent
