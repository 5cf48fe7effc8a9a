#include "plugin_runner.hpp"

#include <dlfcn.h>
#include <errno.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "plugin_abi/descriptor_check.hpp"
#include "plugin_abi/plugin_call.hpp"
#include "plugin_abi/subscribe_options.hpp"

namespace lucid::runner {
namespace {

using host::PluginCall;
using host::plugin_abi::kHasOut;
using host::plugin_abi::kNested;

// True on the callback thread while a plugin callback runs there.
thread_local bool t_in_callback = false;

// The agent closed the socket or sent what this runner cannot read: nothing sensible is left
// to do, and the plugin's threads must not keep it alive (nor run its destructors).
[[noreturn]] void leave(int status, const std::string& why) {
    if (!why.empty()) std::fprintf(stderr, "lucid-plugin-runner: %s\n", why.c_str());
    std::fflush(stderr);
    _exit(status);
}

std::optional<std::string> text_or_null(const char* s) {
    if (!s) return std::nullopt;
    return std::string(s);
}

}  // namespace

PluginRunner::PluginRunner(int fd, std::vector<std::pair<std::string, std::string>> hello,
                           std::optional<runner::containment::PluginImage> image)
    : fd_(fd), hello_(std::move(hello)), image_(std::move(image)) {}

void PluginRunner::send(const Frame& frame) {
    const std::string bytes = host::plugin_abi::encode(frame);
    std::lock_guard<std::mutex> lock(write_mutex_);
    std::size_t done = 0;
    while (done < bytes.size()) {
        const ssize_t n = ::write(fd_, bytes.data() + done, bytes.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) leave(0, "");  // the agent is gone
        done += static_cast<std::size_t>(n);
    }
}

Frame PluginRunner::call_host(Frame frame, bool wants_reply) {
    if (t_in_callback) frame.flags |= kNested;
    if (!host::plugin_abi::fits(frame)) {  // a 70 MB publish: refused here, the child lives
        Frame refused;
        refused.status = static_cast<std::uint32_t>(LUCID_ERR_INVALID_ARGUMENT);
        return refused;
    }
    if (!wants_reply) {
        frame.seq = 0;
        send(frame);
        return {};
    }
    std::unique_lock<std::mutex> lock(mutex_);
    frame.seq = next_seq_++;
    if (next_seq_ == 0) next_seq_ = 1;
    replies_[frame.seq];
    lock.unlock();
    send(frame);
    lock.lock();
    cv_.wait(lock, [&] { return replies_[frame.seq].has_value(); });
    Frame reply = std::move(*replies_[frame.seq]);
    replies_.erase(frame.seq);
    return reply;
}

int PluginRunner::run() {
    Frame hello;
    hello.op = RunnerOp::hello;
    hello.a = host::plugin_abi::kRunnerProtocolVersion;
    hello.b = static_cast<std::uint64_t>(::getpid());
    for (const auto& [name, result] : hello_) {
        hello.strings.emplace_back(name);
        hello.strings.emplace_back(result);
    }
    send(hello);
    callback_thread_ = std::thread([this] { callback_loop(); });

    host::plugin_abi::FrameDecoder decoder;
    std::vector<char> buffer(64 * 1024);
    for (;;) {
        const ssize_t n = ::read(fd_, buffer.data(), buffer.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) leave(0, "");  // the agent closed: stop, unload, or its own exit
        decoder.feed(buffer.data(), static_cast<std::size_t>(n));
        while (auto frame = decoder.next()) {
            switch (frame->op) {
                case RunnerOp::ping: {
                    Frame pong;
                    pong.op = RunnerOp::pong;
                    pong.seq = frame->seq;
                    send(pong);
                    break;
                }
                case RunnerOp::host_reply: {
                    std::lock_guard<std::mutex> lock(mutex_);
                    auto it = replies_.find(frame->seq);
                    if (it != replies_.end()) it->second = std::move(*frame);
                    cv_.notify_all();
                    break;
                }
                default: {
                    std::uint64_t dropped = 0;
                    {
                        std::lock_guard<std::mutex> lock(mutex_);
                        // A stop goes before the messages still queued, as in-process (where
                        // stop forgets the subscriptions first): they are dropped, not run.
                        if (frame->op == RunnerOp::call_stop) dropped = drop_queued_messages();
                        callbacks_.push_back(std::move(*frame));
                        cv_.notify_all();
                    }
                    if (dropped > 0) {
                        Frame done;
                        done.op = RunnerOp::messages_done;
                        done.a = dropped;
                        send(done);
                    }
                }
            }
        }
        if (decoder.failed()) leave(2, "bad frame from the agent: " + decoder.error());
    }
}

std::uint64_t PluginRunner::drop_queued_messages() {
    const auto before = callbacks_.size();
    callbacks_.erase(std::remove_if(callbacks_.begin(), callbacks_.end(),
                                    [](const Frame& f) { return f.op == RunnerOp::call_message; }),
                     callbacks_.end());
    return before - callbacks_.size();
}

void PluginRunner::callback_loop() {
    for (;;) {
        Frame frame;
        {
            std::unique_lock<std::mutex> lock(mutex_);
            cv_.wait(lock, [&] { return !callbacks_.empty(); });
            frame = std::move(callbacks_.front());
            callbacks_.pop_front();
        }
        if (frame.op == RunnerOp::load) {
            send(load(frame.text(0)));
            continue;
        }
        if (frame.op == RunnerOp::call_message) {
            deliver_message(frame);
            continue;
        }
        run_callback(frame);
    }
}

Frame PluginRunner::load(const std::string& file) {
    Frame reply;
    reply.op = RunnerOp::loaded;
    reply.seq = 0;
    reply.status = 1;
    const std::string where = file + ": ";
    auto failed = [&](const std::string& error) {
        reply.strings = {error, std::string(), std::string(), std::string()};
        return reply;
    };
    if (library_) return failed(where + "a plugin is loaded already");
    // With run_as the file itself may be unreadable now: its copy is loaded (plugin_image.hpp).
    std::string opened = file;
    if (image_) {
        if (file != image_->source()) {
            return failed(where + "not the file this runner copied for run_as (" +
                          image_->source() + ")");
        }
        opened = image_->path();
    }
    library_ = ::dlopen(opened.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!library_) {
        const char* detail = ::dlerror();
        std::string text = detail ? detail : "unknown error";
        // The operator knows the file, not the descriptor it was read through.
        for (auto at = text.find(opened); opened != file && at != std::string::npos;
             at = text.find(opened, at + file.size())) {
            text.replace(at, opened.size(), file);
        }
        return failed(where + "cannot load: " + text);
    }
    void* entry = ::dlsym(library_, LUCID_PLUGIN_ENTRY_SYMBOL);
    if (!entry) {
        return failed(where + "missing entry point " LUCID_PLUGIN_ENTRY_SYMBOL
                              " (declare the plugin with LUCID_PLUGIN)");
    }
    const auto* theirs = reinterpret_cast<lucid_plugin_entry_fn>(entry)();
    const std::string bad = host::plugin_abi::check_descriptor(theirs, where, descriptor_);
    if (!bad.empty()) return failed(bad);
    reply.status = 0;
    reply.a = theirs->abi_version;
    reply.flags = descriptor_.config_changed ? 1 : 0;
    auto str = [](const char* s) { return std::string(s ? s : ""); };
    reply.strings = {std::string(), str(descriptor_.dist_name), str(descriptor_.version),
                     str(descriptor_.component_id)};
    return reply;
}

void PluginRunner::run_callback(const Frame& frame) {
    PluginCall call;
    lucid_status status = LUCID_OK;
    t_in_callback = true;
    const lucid_plugin_descriptor& d = descriptor_;
    switch (frame.op) {
        case RunnerOp::call_create:
            status = host::call_plugin(call, [&] {
                return d.create ? d.create(&api_table(), reinterpret_cast<lucid_host*>(this),
                                           &instance_, call.handle())
                                : LUCID_ERR_STATE;
            });
            break;
        case RunnerOp::call_start:
            status = host::call_plugin(call, [&] {
                return d.start ? d.start(instance_, call.handle()) : LUCID_ERR_STATE;
            });
            break;
        case RunnerOp::call_stop:
            status = host::call_plugin(
                call, [&] { return d.stop ? d.stop(instance_, call.handle()) : LUCID_ERR_STATE; });
            break;
        case RunnerOp::call_destroy:
            status = host::call_plugin(call, [&] {
                if (d.destroy) d.destroy(instance_);
                instance_ = nullptr;
                return LUCID_OK;
            });
            break;
        case RunnerOp::call_config:
            status = host::call_plugin(call, [&] {
                return d.config_changed
                           ? d.config_changed(instance_, frame.text(0).c_str(), call.handle())
                           : LUCID_OK;
            });
            break;
        case RunnerOp::call_timer: {
            // A timer cancelled since the agent sent this tick: nothing to run, nothing wrong.
            const std::optional<Handle> handle = begin_handle(frame.a);
            if (handle && handle->timer) {
                status = host::call_plugin(call, [&] { return handle->timer(handle->user); });
                if (handle->one_shot) drop_handle(frame.a);
            }
            end_handle();
            break;
        }
        case RunnerOp::call_command: {
            const std::optional<Handle> handle = begin_handle(frame.a);
            if (handle && handle->command) {
                lucid_command command{sizeof(lucid_command), 0, frame.text(0).c_str(),
                                      frame.text(1).c_str(), frame.text(2).c_str()};
                status = host::call_plugin(
                    call, [&] { return handle->command(handle->user, &command, call.handle()); });
            } else {
                status = LUCID_ERR_NOT_FOUND;
            }
            end_handle();
            break;
        }
        default:
            status = LUCID_ERR_UNSUPPORTED;
    }
    t_in_callback = false;
    Frame result;
    result.op = RunnerOp::result;
    result.seq = frame.seq;
    result.status = static_cast<std::uint32_t>(status);
    result.flags = call.responded ? 1 : 0;
    result.strings = {call.error, call.result_json};
    if (!host::plugin_abi::fits(result)) {
        const std::string error = host::plugin_abi::too_large_error("result", result);
        result.status = static_cast<std::uint32_t>(LUCID_ERR_INVALID_ARGUMENT);
        result.flags = 0;
        result.strings = {error, std::string()};
    }
    send(result);
}

void PluginRunner::deliver_message(const Frame& frame) {
    t_in_callback = true;
    const std::optional<Handle> handle = begin_handle(frame.a);
    // Unsubscribed since the agent posted it: plugin.h promises no callback after unsubscribe.
    if (handle && handle->message) {
        const std::string& topic = frame.text(0);
        lucid_message message{sizeof(lucid_message),
                              0,
                              topic.c_str(),
                              frame.text(1).data(),
                              frame.text(1).size(),
                              static_cast<int>(frame.b & 0xff),
                              static_cast<int>((frame.b >> 8) & 1)};
        PluginCall call;
        const lucid_status status =
            host::call_plugin(call, [&] { return handle->message(handle->user, &message); });
        // No result travels back for a posted message: the agent's warning, sent as a log line.
        if (status != LUCID_OK) {
            log(LUCID_LOG_WARNING, ("message handler for " + topic + " returned lucid_status " +
                                    std::to_string(static_cast<int>(status)) + " " + call.error)
                                       .c_str());
        }
    }
    end_handle();
    t_in_callback = false;
    ++messages_done_;
    bool more_messages = false;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        more_messages = !callbacks_.empty() && callbacks_.front().op == RunnerOp::call_message;
    }
    // Acknowledged in batches while a burst lasts, and always before anything else runs, so
    // the agent's window (kMessageWindow) never waits on a child with nothing to do; at least
    // every kMessageAckAfter, so the agent knows how long the message now running has taken.
    const auto now = std::chrono::steady_clock::now();
    if (!more_messages || messages_done_ >= host::plugin_abi::kMessageAckEvery ||
        now - last_ack_ >= host::plugin_abi::kMessageAckAfter) {
        Frame done;
        done.op = RunnerOp::messages_done;
        done.a = messages_done_;
        messages_done_ = 0;
        last_ack_ = now;
        send(done);
    }
}

std::optional<PluginRunner::Handle> PluginRunner::begin_handle(std::uint64_t handle) {
    std::lock_guard<std::mutex> lock(handles_mutex_);
    auto it = handles_.find(handle);
    if (it == handles_.end()) return std::nullopt;
    running_handle_ = handle;
    return it->second;
}

void PluginRunner::end_handle() {
    std::lock_guard<std::mutex> lock(handles_mutex_);
    running_handle_ = 0;
    handles_idle_.notify_all();
}

void PluginRunner::wait_not_running(std::uint64_t handle) {
    if (handle == 0 || t_in_callback) return;  // from its own callback: it is returning
    std::unique_lock<std::mutex> lock(handles_mutex_);
    handles_idle_.wait(lock, [&] { return running_handle_ != handle; });
}

std::uint64_t PluginRunner::add_handle(Handle handle) {
    std::lock_guard<std::mutex> lock(handles_mutex_);
    const std::uint64_t id = next_handle_++;
    handles_[id] = handle;
    return id;
}

lucid_status PluginRunner::call_registering(Frame frame, std::uint64_t handle,
                                            std::map<std::uint64_t, std::uint64_t>& ids,
                                            uint64_t* out_id) {
    const Frame reply = call_host(std::move(frame));
    const auto status = static_cast<lucid_status>(reply.status);
    if (status != LUCID_OK) {
        if (handle) drop_handle(handle);
        return status;
    }
    {
        std::lock_guard<std::mutex> lock(handles_mutex_);
        ids[reply.a] = handle;
    }
    *out_id = reply.a;  // the host refuses a NULL out_id before it says OK
    return status;
}

template <class Key>
std::uint64_t PluginRunner::take_handle(std::map<Key, std::uint64_t>& ids, const Key& key) {
    std::lock_guard<std::mutex> lock(handles_mutex_);
    auto it = ids.find(key);
    if (it == ids.end()) return 0;
    const std::uint64_t handle = it->second;
    handles_.erase(handle);
    ids.erase(it);
    return handle;
}

void PluginRunner::drop_handle(std::uint64_t handle) {
    std::lock_guard<std::mutex> lock(handles_mutex_);
    handles_.erase(handle);
}

// ---- the host API ----

lucid_status PluginRunner::publish(const char* topic, const void* payload, size_t len, int qos,
                                   int retain) {
    Frame f;
    f.op = RunnerOp::publish;
    f.a = static_cast<std::uint64_t>(static_cast<std::int64_t>(qos));
    f.b = retain ? 1 : 0;
    // A NULL payload is sent as absent; with a length it is the plugin's mistake, which the
    // host refuses as it would in-process (b bit 1).
    std::optional<std::string> body;
    if (payload) body = std::string(static_cast<const char*>(payload), len);
    if (!payload && len > 0) f.b |= 2;
    f.strings = {text_or_null(topic), std::move(body)};
    return static_cast<lucid_status>(call_host(std::move(f)).status);
}

lucid_status PluginRunner::publish_event(const char* type, const char* data,
                                         const char* correlation_id) {
    Frame f;
    f.op = RunnerOp::publish_event;
    f.strings = {text_or_null(type), text_or_null(data), text_or_null(correlation_id)};
    return static_cast<lucid_status>(call_host(std::move(f)).status);
}

lucid_status PluginRunner::subscribe(const char* filter, int qos, lucid_message_fn fn, void* user,
                                     uint64_t* out_id) {
    return subscribe_with(filter, qos, nullptr, fn, user, out_id);
}

lucid_status PluginRunner::subscribe_with(const char* filter, int qos,
                                          const lucid_subscribe_options* options,
                                          lucid_message_fn fn, void* user, uint64_t* out_id) {
    // Read here, in the plugin's address space; the agent gets the flags only.
    const auto flags = host::plugin_abi::subscribe_flags(options);
    if (!flags) return LUCID_ERR_INVALID_ARGUMENT;
    const std::uint64_t handle = fn ? add_handle(Handle{fn, nullptr, nullptr, user, false}) : 0;
    Frame f;
    // A plain subscribe stays the 1.0 frame.
    f.op = options ? RunnerOp::subscribe_with : RunnerOp::subscribe;
    f.status = *flags;
    f.a = static_cast<std::uint64_t>(static_cast<std::int64_t>(qos));
    f.b = handle;
    f.flags = out_id ? kHasOut : 0;
    f.strings = {text_or_null(filter)};
    return call_registering(std::move(f), handle, subscription_handles_, out_id);
}

lucid_status PluginRunner::publish_metric(const char* metric, double value, const char* unit) {
    Frame f;
    f.op = RunnerOp::publish_metric;
    std::memcpy(&f.a, &value, sizeof value);  // every bit, NaN included: the agent refuses it
    f.strings = {text_or_null(metric), text_or_null(unit)};
    return static_cast<lucid_status>(call_host(std::move(f)).status);
}

lucid_status PluginRunner::unsubscribe(uint64_t id) {
    const std::uint64_t handle = take_handle(subscription_handles_, id);
    Frame f;
    f.op = RunnerOp::unsubscribe;
    f.a = id;
    const auto status = static_cast<lucid_status>(call_host(std::move(f)).status);
    wait_not_running(handle);
    return status;
}

lucid_status PluginRunner::timer_start(uint32_t first_ms, uint32_t period_ms, lucid_timer_fn fn,
                                       void* user, uint64_t* out_id) {
    const std::uint64_t handle =
        fn ? add_handle(Handle{nullptr, fn, nullptr, user, period_ms == 0}) : 0;
    Frame f;
    f.op = RunnerOp::timer_start;
    f.a = (static_cast<std::uint64_t>(first_ms) << 32) | period_ms;
    f.b = handle;
    f.flags = out_id ? kHasOut : 0;
    return call_registering(std::move(f), handle, timer_handles_, out_id);
}

lucid_status PluginRunner::timer_cancel(uint64_t id) {
    Frame f;
    f.op = RunnerOp::timer_cancel;
    f.a = id;
    // Taken first: a tick the agent sent already finds it gone. A one-shot that fired has no
    // handle left; the host then says LUCID_ERR_NOT_FOUND, as in-process.
    const std::uint64_t handle = take_handle(timer_handles_, id);
    const auto status = static_cast<lucid_status>(call_host(std::move(f)).status);
    wait_not_running(handle);
    return status;
}

void PluginRunner::log(lucid_log_level level, const char* message) {
    Frame f;
    f.op = RunnerOp::log;
    f.a = static_cast<std::uint64_t>(static_cast<std::int64_t>(level));
    f.strings = {text_or_null(message)};
    call_host(std::move(f), false);
}

lucid_status PluginRunner::report_status(lucid_component_state state, const char* error) {
    Frame f;
    f.op = RunnerOp::report_status;
    f.a = static_cast<std::uint64_t>(static_cast<std::int64_t>(state));
    f.strings = {text_or_null(error)};
    return static_cast<lucid_status>(call_host(std::move(f)).status);
}

size_t PluginRunner::get_config(char* buf, size_t capacity) {
    Frame f;
    f.op = RunnerOp::get_config;
    const Frame reply = call_host(std::move(f));
    const std::string& config = reply.text(0);
    if (buf && capacity > 0) {
        const size_t n = std::min(config.size(), capacity - 1);
        std::memcpy(buf, config.data(), n);
        buf[n] = '\0';
    }
    return config.size();
}

lucid_status PluginRunner::register_command(const char* action, lucid_command_fn fn, void* user) {
    const std::uint64_t handle = fn ? add_handle(Handle{nullptr, nullptr, fn, user, false}) : 0;
    Frame f;
    f.op = RunnerOp::register_command;
    f.b = handle;
    f.strings = {text_or_null(action)};
    const auto status = static_cast<lucid_status>(call_host(std::move(f)).status);
    std::lock_guard<std::mutex> lock(handles_mutex_);
    if (status != LUCID_OK) {
        if (handle) handles_.erase(handle);
        return status;
    }
    auto& slot = command_handles_[action];
    if (slot) handles_.erase(slot);  // the handler it replaces
    slot = handle;
    return status;
}

lucid_status PluginRunner::unregister_command(const char* action) {
    Frame f;
    f.op = RunnerOp::unregister_command;
    f.strings = {text_or_null(action)};
    const std::uint64_t handle = action ? take_handle(command_handles_, std::string(action)) : 0;
    const auto status = static_cast<lucid_status>(call_host(std::move(f)).status);
    wait_not_running(handle);
    return status;
}

}  // namespace lucid::runner
