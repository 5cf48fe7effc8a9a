// lucid-plugin-runner's one plugin: loads it, runs its callbacks when the agent says so, and
// gives it a lucid_host_api whose every function is a message to the agent (runner_protocol.hpp,
// docs/contract.md §5.7). The agent keeps the plugin's real context (subscriptions, timers,
// commands, config, status), so the plugin cannot tell the difference.
//
// Threads: the reader (run(): frames from the agent; answers ping itself, hands replies to the
// waiting caller), the callback thread (every plugin callback, one at a time, in the order the
// agent sent them: plugin.h's "one worker"), and any thread of the plugin calling the host API.
// A host call made on the callback thread is marked nested: while the agent's worker waits for a
// callback it runs such calls itself, exactly where an in-process call from a callback runs.
// Messages are posted (no result each): the agent waits only when the child owes it more than a
// window of them (runner_protocol.hpp).
// Errors: a broken stream from the agent ends the process (the agent is gone or confused);
// everything else is a lucid_status for the plugin.
#pragma once

#include <lucid/plugin.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "containment/plugin_image.hpp"
#include "plugin_abi/runner_protocol.hpp"

namespace lucid::runner {

using host::plugin_abi::Frame;
using host::plugin_abi::RunnerOp;

class PluginRunner {
  public:
    // `fd`: this end of the socketpair; `hello`: the containment measures, as name/result pairs;
    // `image`: with run_as, the only file load() accepts, loaded from memory.
    PluginRunner(int fd, std::vector<std::pair<std::string, std::string>> hello,
                 std::optional<runner::containment::PluginImage> image = std::nullopt);
    PluginRunner(const PluginRunner&) = delete;
    PluginRunner& operator=(const PluginRunner&) = delete;

    // Says hello, then serves the agent until it closes the socket. Returns the exit status.
    int run();

    // ---- the host API (runner_host_api.cpp forwards the C table here) ----
    lucid_status publish(const char* topic, const void* payload, size_t len, int qos, int retain);
    lucid_status publish_event(const char* type, const char* data, const char* correlation_id);
    lucid_status subscribe(const char* filter, int qos, lucid_message_fn fn, void* user,
                           uint64_t* out_id);
    // ABI 1.1; the value and the options travel to the agent, which checks them.
    lucid_status publish_metric(const char* metric, double value, const char* unit);
    lucid_status subscribe_with(const char* filter, int qos, const lucid_subscribe_options* options,
                                lucid_message_fn fn, void* user, uint64_t* out_id);
    lucid_status unsubscribe(uint64_t id);
    lucid_status timer_start(uint32_t first_ms, uint32_t period_ms, lucid_timer_fn fn, void* user,
                             uint64_t* out_id);
    lucid_status timer_cancel(uint64_t id);
    void log(lucid_log_level level, const char* message);
    lucid_status report_status(lucid_component_state state, const char* error);
    size_t get_config(char* buf, size_t capacity);
    lucid_status register_command(const char* action, lucid_command_fn fn, void* user);
    lucid_status unregister_command(const char* action);

    static const lucid_host_api& api_table();

  private:
    // A callback the plugin gave (subscription, timer, command), named by a handle on the wire.
    struct Handle {
        lucid_message_fn message = nullptr;
        lucid_timer_fn timer = nullptr;
        lucid_command_fn command = nullptr;
        void* user = nullptr;
        bool one_shot = false;  // a timer that fires once
    };

    void send(const Frame& frame);
    // Sends a host call; with `wants_reply`, waits for the agent's host_reply.
    Frame call_host(Frame frame, bool wants_reply = true);
    std::uint64_t add_handle(Handle handle);
    void drop_handle(std::uint64_t handle);
    // Sends a subscribe or timer_start carrying `handle`; on success maps the id the host gave
    // to it in `ids` and writes the id to `out_id`, else forgets the handle.
    lucid_status call_registering(Frame frame, std::uint64_t handle,
                                  std::map<std::uint64_t, std::uint64_t>& ids, uint64_t* out_id);

    // Takes the handle registered under `key` away (0: none): no callback of it starts from now
    // on. With wait_not_running() after the agent's answer, the unsubscribe/cancel/unregister
    // promise of plugin.h is kept here, in the child, where the callbacks run: the agent does
    // not wait for them (PluginCallbackSite::in_runner).
    template <class Key>
    std::uint64_t take_handle(std::map<Key, std::uint64_t>& ids, const Key& key);
    // Waits until no callback of `handle` runs; at once from a callback (it is returning).
    void wait_not_running(std::uint64_t handle);
    // Marks the callback of `handle` running (nullopt: the handle is gone); end_handle() after.
    std::optional<Handle> begin_handle(std::uint64_t handle);
    void end_handle();

    void callback_loop();
    void run_callback(const Frame& frame);
    // A posted call_message: no result; counted and acknowledged in messages_done batches.
    void deliver_message(const Frame& frame);
    // Removes the call_message frames still queued (under mutex_); returns how many.
    std::uint64_t drop_queued_messages();
    Frame load(const std::string& file);

    const int fd_;
    const std::vector<std::pair<std::string, std::string>> hello_;
    const std::optional<runner::containment::PluginImage> image_;
    std::mutex write_mutex_;

    std::mutex mutex_;
    std::condition_variable cv_;
    std::uint32_t next_seq_ = 1;
    std::map<std::uint32_t, std::optional<Frame>> replies_;  // waiting host calls
    std::deque<Frame> callbacks_;                            // for the callback thread

    std::mutex handles_mutex_;
    std::uint64_t next_handle_ = 1;
    std::map<std::uint64_t, Handle> handles_;
    std::map<std::uint64_t, std::uint64_t> subscription_handles_;  // subscription id -> handle
    std::map<std::uint64_t, std::uint64_t> timer_handles_;         // timer id -> handle
    std::map<std::string, std::uint64_t> command_handles_;         // action -> handle
    std::uint64_t running_handle_ = 0;  // whose callback runs now (0: none)
    std::condition_variable handles_idle_;

    // Touched on the callback thread only.
    void* library_ = nullptr;
    lucid_plugin_descriptor descriptor_{};
    void* instance_ = nullptr;
    std::uint64_t messages_done_ = 0;  // posted messages not acknowledged yet
    std::chrono::steady_clock::time_point last_ack_{};

    std::thread callback_thread_;
};

}  // namespace lucid::runner
