#include "isolation/runner_channel.hpp"

#include <errno.h>
#include <signal.h>
#include <unistd.h>

#include <cstring>

#include "isolation/proxy_plugin.hpp"

namespace lucid::host::isolation {
namespace {

using plugin_abi::kHasOut;
using plugin_abi::kNested;

std::mutex g_hosts_mutex;
std::map<lucid_host*, RunnerChannel*>& hosts() {
    static auto* map = new std::map<lucid_host*, RunnerChannel*>();  // never freed: exit order
    return *map;
}

// What the child was doing, for "crashed: SIGSEGV in <what>".
std::string callback_name(RunnerOp op) {
    switch (op) {
        case RunnerOp::call_create:
            return "create";
        case RunnerOp::call_start:
            return "start";
        case RunnerOp::call_stop:
            return "stop";
        case RunnerOp::call_destroy:
            return "destroy";
        case RunnerOp::call_config:
            return "config_changed";
        case RunnerOp::call_message:
            return "message callback";
        case RunnerOp::call_timer:
            return "timer callback";
        case RunnerOp::call_command:
            return "command callback";
        default:
            return plugin_abi::op_name(op);
    }
}

bool is_host_call(RunnerOp op) {
    const auto n = static_cast<int>(op);
    return n >= static_cast<int>(RunnerOp::publish) &&
           n <= static_cast<int>(RunnerOp::subscribe_with);  // the last host API call
}

}  // namespace

RunnerChannel::RunnerChannel(std::unique_ptr<RunnerProcess> process, DeathFn on_death)
    : process_(std::move(process)), on_death_(std::move(on_death)) {}

Expected<std::unique_ptr<RunnerChannel>> RunnerChannel::open(const std::filesystem::path& runner,
                                                             const std::vector<std::string>& args,
                                                             std::chrono::milliseconds timeout,
                                                             DeathFn on_death) {
    auto process = RunnerProcess::spawn(runner, args);
    if (!process) return process.error();
    std::unique_ptr<RunnerChannel> channel(
        new RunnerChannel(std::move(process.value()), std::move(on_death)));
    channel->reader_ = std::thread([c = channel.get()] { c->read_loop(); });
    channel->foreign_thread_ = std::thread([c = channel.get()] { c->foreign_loop(); });
    std::unique_lock<std::mutex> lock(channel->mutex_);
    if (!channel->cv_.wait_for(lock, timeout, [&] { return channel->hello_ || channel->dead_; })) {
        lock.unlock();
        channel->kill("no hello within " + std::to_string(timeout.count()) + " ms");
        return Error{Errc::plugin, runner.string() + ": did not start within " +
                                       std::to_string(timeout.count()) + " ms"};
    }
    if (channel->dead_) {
        return Error{Errc::plugin, runner.string() + ": " + channel->death_ + " before hello"};
    }
    const Frame& hello = *channel->hello_;
    if (hello.a != plugin_abi::kRunnerProtocolVersion) {
        lock.unlock();
        channel->kill("protocol mismatch");
        return Error{Errc::plugin, runner.string() + ": speaks runner protocol " +
                                       std::to_string(hello.a) + ", this agent " +
                                       std::to_string(plugin_abi::kRunnerProtocolVersion)};
    }
    for (std::size_t i = 0; i + 1 < hello.strings.size(); i += 2) {
        channel->containment_.emplace_back(hello.text(i), hello.text(i + 1));
    }
    return channel;
}

RunnerChannel::~RunnerChannel() {
    close();
    if (reader_.joinable()) reader_.join();
    {
        std::lock_guard<std::mutex> lock(mutex_);
        closing_ = true;
        cv_.notify_all();
    }
    if (foreign_thread_.joinable()) foreign_thread_.join();
}

void RunnerChannel::send(const Frame& frame) {
    const std::string bytes = plugin_abi::encode(frame);
    std::lock_guard<std::mutex> lock(write_mutex_);
    std::size_t done = 0;
    while (done < bytes.size()) {
        const ssize_t n = ::write(process_->fd(), bytes.data() + done, bytes.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;  // the reader sees the end and reports the death
        done += static_cast<std::size_t>(n);
    }
}

Status RunnerChannel::load(const std::filesystem::path& file, std::chrono::milliseconds timeout) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        in_flight_what_ = "load";
    }
    Frame frame;
    frame.op = RunnerOp::load;
    frame.strings = {file.string()};
    send(frame);
    std::unique_lock<std::mutex> lock(mutex_);
    if (!cv_.wait_for(lock, timeout, [&] { return loaded_ || dead_; })) {
        lock.unlock();
        kill("load did not return");
        return Error{Errc::stuck, file.string() + ": loading did not return within " +
                                      std::to_string(timeout.count()) + " ms"};
    }
    in_flight_what_.clear();
    if (dead_) return Error{Errc::plugin, file.string() + ": " + death_};
    if (loaded_->status != 0) return Error{Errc::invalid, loaded_->text(0)};
    descriptor_ = proxy_descriptor(*loaded_);
    return done();
}

Frame RunnerChannel::invoke(Frame frame) {
    std::unique_lock<std::mutex> lock(mutex_);
    auto failure = [&] {
        Frame f;
        f.op = RunnerOp::result;
        f.status = LUCID_ERR_INTERNAL;
        f.strings = {death_.empty() ? std::string("the plugin's process is gone") : death_,
                     std::string()};
        return f;
    };
    if (dead_) return failure();
    if (!plugin_abi::fits(frame)) {  // a command payload or a config of more than 64 MiB
        Frame refused;
        refused.op = RunnerOp::result;
        refused.status = LUCID_ERR_INVALID_ARGUMENT;
        refused.strings = {plugin_abi::too_large_error(callback_name(frame.op), frame),
                           std::string()};
        return refused;
    }
    frame.seq = next_seq_++;
    in_flight_ = frame.seq;
    in_flight_what_ = callback_name(frame.op);
    result_.reset();
    lock.unlock();
    send(frame);
    lock.lock();
    for (;;) {
        cv_.wait(lock, [&] { return result_ || !nested_.empty() || dead_; });
        // The calls the callback made before it returned go first: the child sent them before
        // its result, and one left here would wait for the plugin's next callback (a log line
        // of a command, seen only when the next command runs).
        if (!nested_.empty()) {
            Frame call = std::move(nested_.front());
            nested_.pop_front();
            lock.unlock();
            const Frame reply = execute(call);
            if (call.seq != 0) send(reply);
            lock.lock();
            continue;
        }
        if (result_) break;
        if (dead_) {
            in_flight_ = 0;
            return failure();
        }
    }
    Frame result = std::move(*result_);
    result_.reset();
    in_flight_ = 0;
    in_flight_what_.clear();
    return result;
}

lucid_status RunnerChannel::post(Frame frame) {
    using plugin_abi::kMessageWindow;
    using plugin_abi::kMessageWindowBytes;
    // Not for a child: the message is not delivered (the worker logs the status).
    if (!plugin_abi::fits(frame)) return LUCID_ERR_INVALID_ARGUMENT;
    const std::size_t bytes = plugin_abi::encoded_size(frame);
    std::unique_lock<std::mutex> lock(mutex_);
    // One message bigger than the byte window still goes, alone.
    cv_.wait(lock, [&] {
        return dead_ || posted_.empty() ||
               (posted_.size() < kMessageWindow && posted_bytes_ + bytes <= kMessageWindowBytes);
    });
    if (dead_) return LUCID_ERR_INTERNAL;
    posted_.push_back(
        Posted{bytes, "message on " + frame.text(0), std::chrono::steady_clock::now()});
    posted_bytes_ += bytes;
    frame.seq = 0;
    lock.unlock();
    send(frame);
    return LUCID_OK;
}

std::optional<PluginWorker::Busy> RunnerChannel::posted_busy() const {
    std::lock_guard<std::mutex> lock(mutex_);
    if (posted_.empty()) return std::nullopt;
    // Serials apart from the worker's own (PluginContext::check_responsive compares them).
    constexpr std::uint64_t kPostedSerials = std::uint64_t{1} << 63;
    return PluginWorker::Busy{posted_.front().what, std::max(posted_.front().sent, last_done_),
                              kPostedSerials | (posted_done_ + 1)};
}

void RunnerChannel::read_loop() {
    plugin_abi::FrameDecoder decoder;
    std::vector<char> buffer(64 * 1024);
    std::string broken;
    for (;;) {
        const ssize_t n = ::read(process_->fd(), buffer.data(), buffer.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        decoder.feed(buffer.data(), static_cast<std::size_t>(n));
        while (auto frame = decoder.next()) route(std::move(*frame));
        if (decoder.failed()) {
            broken = "broke the runner protocol: " + decoder.error();
            process_->kill();
            break;
        }
    }
    const RunnerProcess::Exit exit = process_->reap(std::chrono::milliseconds(1000));
    std::string reason;
    bool expected = false;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        expected = closing_ && kill_reason_.empty();
        if (!kill_reason_.empty()) {
            reason = kill_reason_;
        } else if (!broken.empty()) {
            reason = broken;
        } else {
            reason = exit.describe();
            if (exit.signaled && exit.signal == SIGXCPU) reason = "limit exceeded: cpu_seconds";
            // Named only when one ran: a runner killed from outside, or a plugin thread's
            // fault, happened while no callback did. Posted messages not done yet are ahead of
            // any callback waited for (the child runs them in order and acknowledges them
            // before it runs anything else).
            if (!posted_.empty()) {
                reason += " in " + callback_name(RunnerOp::call_message);
            } else if (!in_flight_what_.empty()) {
                reason += " in " + in_flight_what_;
            }
        }
        dead_ = true;
        death_ = reason;
        cv_.notify_all();
    }
    if (on_death_) on_death_(Death{reason, expected});
}

void RunnerChannel::route(Frame frame) {
    std::lock_guard<std::mutex> lock(mutex_);
    switch (frame.op) {
        case RunnerOp::hello:
            if (!hello_) hello_ = std::move(frame);
            break;
        case RunnerOp::loaded:
            if (!loaded_) loaded_ = std::move(frame);
            break;
        case RunnerOp::result:
            if (in_flight_ != 0 && frame.seq == in_flight_) result_ = std::move(frame);
            break;
        case RunnerOp::pong:
            pong_seq_ = frame.seq;
            break;
        case RunnerOp::messages_done:
            for (std::uint64_t n = frame.a; n > 0 && !posted_.empty(); --n) {
                posted_bytes_ -= posted_.front().bytes;
                posted_.pop_front();
                ++posted_done_;
            }
            last_done_ = std::chrono::steady_clock::now();
            break;
        default:
            if (!is_host_call(frame.op)) break;  // an op the agent sends: ignored
            if ((frame.flags & kNested) && in_flight_ != 0) {
                nested_.push_back(std::move(frame));
            } else {
                foreign_.push_back(std::move(frame));
            }
    }
    cv_.notify_all();
}

void RunnerChannel::foreign_loop() {
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
        cv_.wait(lock, [&] { return !foreign_.empty() || (closing_ && dead_); });
        if (foreign_.empty()) return;
        Frame call = std::move(foreign_.front());
        foreign_.pop_front();
        lock.unlock();
        const Frame reply = execute(call);
        if (call.seq != 0) send(reply);
        lock.lock();
    }
}

bool RunnerChannel::ping(std::chrono::milliseconds silence) {
    std::unique_lock<std::mutex> lock(mutex_);
    if (dead_) return true;
    const auto now = std::chrono::steady_clock::now();
    if (ping_seq_ != 0 && pong_seq_ != ping_seq_ && now - ping_sent_ > silence) return false;
    if (ping_seq_ != 0 && pong_seq_ != ping_seq_) return true;  // still waiting, not for long
    Frame frame;
    frame.op = RunnerOp::ping;
    frame.seq = ++ping_seq_;
    ping_sent_ = now;
    lock.unlock();
    send(frame);
    return true;
}

void RunnerChannel::kill(std::string reason) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (dead_) return;
        if (kill_reason_.empty()) kill_reason_ = std::move(reason);
    }
    process_->kill();
}

void RunnerChannel::close() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        closing_ = true;
        cv_.notify_all();
    }
    process_->shutdown_socket();
}

bool RunnerChannel::dead() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return dead_;
}

void RunnerChannel::bind_host(const lucid_host_api* api, lucid_host* host) {
    std::lock_guard<std::mutex> lock(mutex_);
    api_ = api;
    host_ = host;
}

void RunnerChannel::unbind_host() {
    std::unique_lock<std::mutex> lock(mutex_);
    api_ = nullptr;
    host_ = nullptr;
    cv_.wait(lock, [&] { return executing_ == 0; });
}

RunnerChannel* RunnerChannel::of_host(lucid_host* host) {
    std::lock_guard<std::mutex> lock(g_hosts_mutex);
    auto it = hosts().find(host);
    return it == hosts().end() ? nullptr : it->second;
}

void RunnerChannel::register_host(lucid_host* host, RunnerChannel* channel) {
    std::lock_guard<std::mutex> lock(g_hosts_mutex);
    hosts()[host] = channel;
}

void RunnerChannel::unregister_host(lucid_host* host) {
    std::lock_guard<std::mutex> lock(g_hosts_mutex);
    hosts().erase(host);
}

void* RunnerChannel::handle_ref(std::uint64_t handle) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = ref_of_.find(handle);
    if (it != ref_of_.end()) return it->second;
    refs_.push_back(HandleRef{this, handle});
    ref_of_[handle] = &refs_.back();
    return &refs_.back();
}

Frame RunnerChannel::execute(const Frame& call) {
    Frame reply;
    reply.op = RunnerOp::host_reply;
    reply.seq = call.seq;
    const lucid_host_api* api = nullptr;
    lucid_host* host = nullptr;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        api = api_;
        host = host_;
        if (api && host) ++executing_;
    }
    if (!api || !host) {  // before create, or after the context went: nothing to call
        reply.status = LUCID_ERR_STATE;
        return reply;
    }
    struct Done {
        RunnerChannel& channel;
        ~Done() {
            std::lock_guard<std::mutex> lock(channel.mutex_);
            --channel.executing_;
            channel.cv_.notify_all();
        }
    } done{*this};
    const int small = static_cast<int>(static_cast<std::int64_t>(call.a));
    lucid_status status = LUCID_OK;
    std::uint64_t id = 0;
    const bool out = (call.flags & kHasOut) != 0;
    switch (call.op) {
        case RunnerOp::publish: {
            const std::optional<std::string>& body =
                call.strings.size() > 1 ? call.strings[1] : std::nullopt;
            const void* payload = body ? body->data() : nullptr;
            const size_t len = body ? body->size() : ((call.b & 2) ? 1 : 0);
            status = api->publish(host, call.c_str(0), payload, len, small, (call.b & 1) ? 1 : 0);
            break;
        }
        case RunnerOp::publish_event:
            status = api->publish_event(host, call.c_str(0), call.c_str(1), call.c_str(2));
            break;
        case RunnerOp::subscribe:
            status = api->subscribe(host, call.c_str(0), small, call.b ? &proxy_message : nullptr,
                                    call.b ? handle_ref(call.b) : nullptr, out ? &id : nullptr);
            break;
        case RunnerOp::subscribe_with: {
            // The child read the plugin's options; the flags are all it sends.
            lucid_subscribe_options options{};
            options.struct_size = sizeof options;
            options.flags = call.status;
            status = api->subscribe_with(
                host, call.c_str(0), small, &options, call.b ? &proxy_message : nullptr,
                call.b ? handle_ref(call.b) : nullptr, out ? &id : nullptr);
            break;
        }
        case RunnerOp::publish_metric: {
            double value = 0;
            std::memcpy(&value, &call.a, sizeof value);
            status = api->publish_metric(host, call.c_str(0), value, call.c_str(1));
            break;
        }
        case RunnerOp::unsubscribe:
            status = api->unsubscribe(host, call.a);
            break;
        case RunnerOp::timer_start:
            status = api->timer_start(host, static_cast<uint32_t>(call.a >> 32),
                                      static_cast<uint32_t>(call.a & 0xffffffffu),
                                      call.b ? &proxy_timer : nullptr,
                                      call.b ? handle_ref(call.b) : nullptr, out ? &id : nullptr);
            break;
        case RunnerOp::timer_cancel:
            status = api->timer_cancel(host, call.a);
            break;
        case RunnerOp::log:
            api->log(host, static_cast<lucid_log_level>(small), call.c_str(0));
            break;
        case RunnerOp::report_status:
            status =
                api->report_status(host, static_cast<lucid_component_state>(small), call.c_str(0));
            break;
        case RunnerOp::get_config: {
            std::string config(api->get_config(host, nullptr, 0), '\0');
            // It may change between the two calls: read until the size holds still.
            for (;;) {
                const size_t full = api->get_config(host, config.data(), config.size() + 1);
                if (full == config.size()) break;
                config.assign(full, '\0');
            }
            reply.strings = {config};
            break;
        }
        case RunnerOp::register_command:
            status = api->register_command(host, call.c_str(0), call.b ? &proxy_command : nullptr,
                                           call.b ? handle_ref(call.b) : nullptr);
            break;
        case RunnerOp::unregister_command:
            status = api->unregister_command(host, call.c_str(0));
            break;
        default:
            status = LUCID_ERR_UNSUPPORTED;
    }
    reply.status = static_cast<std::uint32_t>(status);
    reply.a = id;
    if (!plugin_abi::fits(reply)) {  // a config of more than 64 MiB: refused, not sent
        reply.status = LUCID_ERR_INVALID_ARGUMENT;
        reply.strings.clear();
    }
    return reply;
}

}  // namespace lucid::host::isolation
