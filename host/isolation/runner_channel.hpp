// The agent's end of one lucid-plugin-runner (runner_protocol.hpp): the handshake (hello, load),
// the plugin's callbacks sent to the runner and waited for, and the plugin's host API calls
// coming back, run through the agent's own lucid_host_api table against the plugin's real
// PluginContext — so that validation, subscriptions, timers, commands and status behave exactly
// as in-process.
//
//   auto channel = RunnerChannel::open(runner_path(), args, on_death);   // spawn + hello
//   channel->load(file, timeout);                  // dlopen in the child; its descriptor facts
//   PluginContext plugin(channel->descriptor(), cid, version, services);
//   channel->bind(plugin);  plugin.start();  ...  plugin.stop();
//   channel->close();                              // the runner leaves; on_death(expected)
//
// Where host calls run: a call the runner made from inside a callback (nested) on the agent
// thread waiting for a callback, when one waits — the plugin's worker, as in-process; any other
// on the channel's own thread for foreign calls (a plugin thread, or a posted message's callback
// while the worker is not waiting). The reader thread never runs one, so a reply is always read.
// None of them waits for the worker (PluginCallbackSite::in_runner), so whichever thread
// runs it, the child's callback thread is answered.
//
// Thread: invoke() from the plugin's worker (one callback at a time); ping, kill, close, rss
// from any thread. `on_death` runs on the reader thread once the child is reaped.
// Errors: a dead child makes every call fail at once with its end ("crashed: SIGSEGV in timer
// callback"); a malformed frame from the child kills it.
#pragma once

#include <lucid/plugin.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/expected.hpp"
#include "isolation/runner_process.hpp"
#include "plugin/plugin_worker.hpp"
#include "plugin_abi/runner_protocol.hpp"

namespace lucid::host::isolation {

using plugin_abi::Frame;
using plugin_abi::RunnerOp;

class RunnerChannel {
  public:
    struct Death {
        std::string reason;     // "crashed: SIGSEGV in timer callback", "limit exceeded: ..."
        bool expected = false;  // close() asked for it
    };
    using DeathFn = std::function<void(const Death&)>;
    using Measures = std::vector<std::pair<std::string, std::string>>;

    // Starts the runner and waits up to `timeout` for its hello.
    static Expected<std::unique_ptr<RunnerChannel>> open(const std::filesystem::path& runner,
                                                         const std::vector<std::string>& args,
                                                         std::chrono::milliseconds timeout,
                                                         DeathFn on_death);
    ~RunnerChannel();  // close() and wait for the threads
    RunnerChannel(const RunnerChannel&) = delete;
    RunnerChannel& operator=(const RunnerChannel&) = delete;

    // The containment measures the runner reported (name, result).
    const Measures& containment() const { return containment_; }
    pid_t pid() const { return process_->pid(); }

    // Loads the plugin in the child. The error is the runner's (it names the file).
    Status load(const std::filesystem::path& file, std::chrono::milliseconds timeout);
    // The descriptor to give PluginContext: its functions are this channel's proxies.
    const lucid_plugin_descriptor& descriptor() const { return descriptor_; }

    // Sends a callback and waits for its result, running the nested host calls meanwhile. A
    // dead child: status LUCID_ERR_INTERNAL, strings {why}.
    Frame invoke(Frame frame);
    // Sends a call_message without waiting for it to run: waits only while the child owes a
    // whole window (kMessageWindow) of them. LUCID_ERR_INTERNAL once the child is dead.
    lucid_status post(Frame frame);
    // The posted message the child runs now (the oldest not done), since when it runs there
    // (at most ~100 ms early: the child acknowledges at least that often); nullopt: none.
    std::optional<PluginWorker::Busy> posted_busy() const;

    // Sends a ping; false when no pong came since the last ping sent more than `silence` ago.
    bool ping(std::chrono::milliseconds silence);
    void kill(std::string reason);  // the next death is reported with this reason
    void close();                   // expected end: the runner leaves, no crash reported
    std::optional<std::uint64_t> rss_bytes() const { return process_->rss_bytes(); }
    bool dead() const;

    // For the proxy descriptor (proxy_plugin.cpp).
    void bind_host(const lucid_host_api* api, lucid_host* host);
    // Before the plugin's context goes away: host calls still coming from the child are
    // refused (LUCID_ERR_STATE) from now on; waits for those being run.
    void unbind_host();
    static RunnerChannel* of_host(lucid_host* host);
    static void register_host(lucid_host* host, RunnerChannel* channel);
    static void unregister_host(lucid_host* host);
    // The user_data the agent keeps for a handle of the runner's (stable address).
    void* handle_ref(std::uint64_t handle);
    struct HandleRef {
        RunnerChannel* channel;
        std::uint64_t handle;
    };

  private:
    RunnerChannel(std::unique_ptr<RunnerProcess> process, DeathFn on_death);
    void send(const Frame& frame);
    void read_loop();
    void foreign_loop();
    void route(Frame frame);
    Frame execute(const Frame& call);  // a host call -> its host_reply
    void died(std::string reason);

    std::unique_ptr<RunnerProcess> process_;
    DeathFn on_death_;
    Measures containment_;
    lucid_plugin_descriptor descriptor_{};
    std::mutex write_mutex_;

    mutable std::mutex mutex_;
    std::condition_variable cv_;
    bool dead_ = false;
    bool closing_ = false;
    std::string death_;        // why, once dead
    std::string kill_reason_;  // set by kill()
    std::optional<Frame> hello_, loaded_;
    std::uint32_t next_seq_ = 1;
    std::uint32_t in_flight_ = 0;  // the seq of the callback waited for; 0: none
    std::string in_flight_what_;   // "timer callback", ...
    std::optional<Frame> result_;  // its result
    struct Posted {
        std::size_t bytes;
        std::string what;  // "message on <topic>"
        std::chrono::steady_clock::time_point sent;
    };
    std::deque<Posted> posted_;  // the posted messages not done yet, oldest first
    std::size_t posted_bytes_ = 0;
    std::uint64_t posted_done_ = 0;  // how many were done in all
    std::chrono::steady_clock::time_point last_done_{};
    std::deque<Frame> nested_;   // host calls for the waiting worker
    std::deque<Frame> foreign_;  // host calls for the foreign thread
    std::uint32_t ping_seq_ = 0, pong_seq_ = 0;
    std::chrono::steady_clock::time_point ping_sent_{};
    const lucid_host_api* api_ = nullptr;
    lucid_host* host_ = nullptr;
    int executing_ = 0;  // host calls being run against host_
    std::deque<HandleRef> refs_;
    std::map<std::uint64_t, HandleRef*> ref_of_;

    std::thread reader_, foreign_thread_;
};

}  // namespace lucid::host::isolation
