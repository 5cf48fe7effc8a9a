// Notices a plugin stuck in a callback (contract §5: a hung plugin must not go unnoticed, nor stall
// the agent). A thread of its own wakes every `period` and asks each watched PluginContext to
// compare the task its worker is running with `stall_after` (PluginContext::check_responsive);
// the context then reports itself and recovers on its own:
//
//   components/{cid}/status   state "failed", error "unresponsive: command 'hang' running for 12 s"
//                             (what: "command '<action>'", "message on <topic>", "timer",
//                             "config change"; seconds rounded down, at detection);
//                             back to the status it had (normally "running", error null) once
//                             that callback returns;
//   core/state                "degraded" meanwhile (components_failed counts it);
//   log                       WARN "plugin <cid> unresponsive: <what> running for <n> s", then
//                             INFO "plugin <cid> responsive again: <what> returned after <n> s;
//                             <k> message(s) dropped meanwhile".
//
// While unresponsive, nothing more is queued for the plugin: its commands are answered at once
// with ok:false, error "component unresponsive: <cid>" (not recorded against the request_id,
// so a retry runs), subscription messages are dropped (counted in the recovery log line), a
// config change (cfg/set) is refused with the same error, and stop() waits at most one more
// `stall_after` before leaving the plugin behind (library kept mapped, restart_required).
//
// Not the MQTT network thread and not the heartbeat: a check takes locks a publish needs.
// Thread: watch/unwatch/check_now from any thread; the destructor stops the thread.
// Errors: none thrown; a context is checked under the watch's own mutex.
#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <thread>

namespace lucid::host {

class PluginContext;

// A duration in whole seconds, as every stall message shows it.
long long whole_seconds(std::chrono::steady_clock::duration d);
// "850 ms" under a second, else "12 s": a wait shorter than a second is not "0 s".
std::string duration_text(std::chrono::steady_clock::duration d);
// "unresponsive: command 'hang' running for 12 s": the component status error.
std::string unresponsive_error(const std::string& what,
                               std::chrono::steady_clock::duration running);
// "component unresponsive: hang": the answer to a command or config change meanwhile.
std::string unresponsive_refusal(const std::string& component_id);

class PluginStallWatch {
  public:
    // Checks every stall_after / 4, between 50 ms and 1 s, so a stall is reported at most a
    // quarter late and a recovery within a second.
    explicit PluginStallWatch(std::chrono::milliseconds stall_after);
    ~PluginStallWatch();
    PluginStallWatch(const PluginStallWatch&) = delete;
    PluginStallWatch& operator=(const PluginStallWatch&) = delete;

    // `context` must stay valid until unwatch(id) returned.
    void watch(const std::string& id, PluginContext& context);
    // Waits for a check in progress: after it returns, `id`'s context is never touched again.
    void unwatch(const std::string& id);
    // One round of checks now, on the calling thread.
    void check_now();

    std::chrono::milliseconds stall_after() const { return stall_after_; }

  private:
    void run();

    const std::chrono::milliseconds stall_after_;
    const std::chrono::milliseconds period_;
    std::mutex mutex_;  // guards contexts_ and is held for a whole round
    std::map<std::string, PluginContext*> contexts_;
    std::mutex wake_mutex_;  // only for sleeping between rounds
    std::condition_variable wake_;
    bool stopping_ = false;
    std::thread thread_;  // last: starts once the members above exist
};

}  // namespace lucid::host
