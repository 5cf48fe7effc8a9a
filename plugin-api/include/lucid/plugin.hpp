// lucid plugin SDK: a header-only C++17 wrapper over the C ABI in lucid/plugin.h.
//
// Threads, ownership and errors are described once at the top of lucid/plugin.h; in short:
// every override and every handler runs on the plugin's own worker thread, one at a time.
//
// A whole plugin (lucid_add_plugin() in CMake supplies dist, version and component id):
//
//     #include <lucid/plugin.hpp>
//     struct Hello : lucid::Plugin {
//         void start() override {
//             every(std::chrono::seconds(5), [this] { publish_event("tick", "{}"); });
//         }
//     };
//     LUCID_PLUGIN(Hello)
//
// Errors: the protected helpers throw lucid::Error when the host refuses a call. Anything an
// override or a handler throws is caught at the ABI boundary (no exception crosses it): in
// start/stop/create it fails that step with the exception's text, in config_changed it refuses
// the config, in a command handler it answers ok:false with the text, in a message or timer
// handler it is logged.
//
// Host calls are available from start() on, not in the constructor. Handlers (std::function)
// are owned by the Plugin object and freed with it, before the host unloads the library.
#pragma once

#include <lucid/plugin.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace lucid {

// A host call that did not return LUCID_OK, or a failure a plugin wants to report precisely.
class Error : public std::runtime_error {
  public:
    Error(lucid_status status, const std::string& what)
        : std::runtime_error(what), status_(status) {}
    lucid_status status() const noexcept { return status_; }

  private:
    lucid_status status_;
};

// A message delivered to a subscription; the views are valid only inside the handler.
struct Message {
    std::string_view topic;
    std::string_view payload;
    int qos;
    bool retain;
};

// A command components/{cid}/cmd/{action}; the views are valid only inside the handler.
struct Command {
    std::string_view action;
    std::string_view request_id;
    std::string_view payload;  // the whole request, a JSON object text
};

// How subscribe() delivers (ABI 1.1). With every field at its default it is the plain 1.0
// subscribe, which every host offers.
struct SubscribeOptions {
    int qos = 1;
    // Drop a message whose envelope `id` this subscription saw within 30 s (LUCID_SUBSCRIBE_DEDUP;
    // counted in the component's status as duplicates_dropped). Needs a 1.1 host: on an older
    // one subscribe() throws lucid::Error with LUCID_ERR_UNSUPPORTED (see can_deduplicate()).
    bool dedup = false;
};

namespace detail {
template <class T>
struct Adapter;

// A status as lucid::Error's text names it: its constant and what it means (lucid/plugin.h),
// so that an operator reading "publish x failed: ..." learns why, not a bare number.
inline const char* status_text(lucid_status status) noexcept {
    switch (status) {
        case LUCID_OK:
            return "LUCID_OK";
        case LUCID_ERR_INVALID_ARGUMENT:
            return "LUCID_ERR_INVALID_ARGUMENT (NULL where not allowed, a bad topic, filter, qos "
                   "or name, or bad JSON)";
        case LUCID_ERR_NOT_FOUND:
            return "LUCID_ERR_NOT_FOUND (no such subscription, timer or command)";
        case LUCID_ERR_UNSUPPORTED:
            return "LUCID_ERR_UNSUPPORTED (the host is too old for this call)";
        case LUCID_ERR_STATE:
            return "LUCID_ERR_STATE (called at the wrong time, e.g. after stop)";
        case LUCID_ERR_REFUSED:
            return "LUCID_ERR_REFUSED (refused)";
        case LUCID_ERR_FAILED:
            return "LUCID_ERR_FAILED (the operation failed)";
        case LUCID_ERR_INTERNAL:
            return "LUCID_ERR_INTERNAL (an exception or bug in the host)";
    }
    return "an unknown lucid_status";
}
}  // namespace detail

class Plugin {
  public:
    using MessageHandler = std::function<void(const Message&)>;
    using TimerHandler = std::function<void()>;
    // Returns the members to add to the result, as a JSON object text ("" for none).
    using CommandHandler = std::function<std::string(const Command&)>;

    Plugin() = default;
    Plugin(const Plugin&) = delete;
    Plugin& operator=(const Plugin&) = delete;
    virtual ~Plugin() = default;

    virtual void start() {}
    virtual void stop() {}
    // Called with the proposed whole config before it is stored; throw to refuse it.
    virtual void config_changed(const std::string& config_json) { (void)config_json; }

  protected:
    // Relative topics go under components/{cid}/; "/x/y" is the absolute topic x/y.
    void publish(const std::string& topic, std::string_view payload, int qos = 1,
                 bool retain = false) {
        check(api_->publish(host_, topic.c_str(), payload.data(), payload.size(), qos,
                            retain ? 1 : 0),
              "publish " + topic);
    }
    // data_json is a JSON value text; the host adds id, type, ts, source, correlation_id.
    void publish_event(const std::string& type, const std::string& data_json = "null",
                       const std::string& correlation_id = "") {
        check(api_->publish_event(host_, type.c_str(), data_json.c_str(),
                                  correlation_id.empty() ? nullptr : correlation_id.c_str()),
              "publish_event " + type);
    }
    uint64_t subscribe(const std::string& filter, MessageHandler handler, int qos = 1) {
        auto owned = std::make_unique<MessageSlot>(MessageSlot{this, std::move(handler)});
        uint64_t id = 0;
        check(api_->subscribe(host_, filter.c_str(), qos, &on_message, owned.get(), &id),
              "subscribe " + filter);
        std::lock_guard<std::mutex> lock(mutex_);
        messages_[id] = std::move(owned);
        return id;
    }
    uint64_t subscribe(const std::string& filter, MessageHandler handler,
                       const SubscribeOptions& options) {
        if (!options.dedup) return subscribe(filter, std::move(handler), options.qos);
        if (!can_deduplicate()) {
            throw Error(LUCID_ERR_UNSUPPORTED,
                        "subscribe " + filter + " with dedup: the host offers no subscribe_with");
        }
        auto owned = std::make_unique<MessageSlot>(MessageSlot{this, std::move(handler)});
        lucid_subscribe_options o{};
        o.struct_size = sizeof o;
        o.flags = LUCID_SUBSCRIBE_DEDUP;
        uint64_t id = 0;
        check(api_->subscribe_with(host_, filter.c_str(), options.qos, &o, &on_message, owned.get(),
                                   &id),
              "subscribe " + filter);
        std::lock_guard<std::mutex> lock(mutex_);
        messages_[id] = std::move(owned);
        return id;
    }
    void unsubscribe(uint64_t id) {
        check(api_->unsubscribe(host_, id), "unsubscribe");
        std::lock_guard<std::mutex> lock(mutex_);
        messages_.erase(id);  // safe: the host guarantees the handler no longer runs
    }
    uint64_t every(std::chrono::milliseconds period, TimerHandler handler) {
        return start_timer(period, period, std::move(handler));
    }
    uint64_t after(std::chrono::milliseconds delay, TimerHandler handler) {
        return start_timer(delay, std::chrono::milliseconds(0), std::move(handler));
    }
    void cancel_timer(uint64_t id) {
        check(api_->timer_cancel(host_, id), "timer_cancel");
        std::lock_guard<std::mutex> lock(mutex_);
        timers_.erase(id);
    }
    void on_command(const std::string& action, CommandHandler handler) {
        auto owned = std::make_unique<CommandSlot>(CommandSlot{api_, std::move(handler)});
        check(api_->register_command(host_, action.c_str(), &on_command_call, owned.get()),
              "register_command " + action);
        std::lock_guard<std::mutex> lock(mutex_);
        commands_[action] = std::move(owned);
    }
    // Publishes a metric the runtime config governs (telemetry.components.<cid>.<metric>; see
    // publish_metric in lucid/plugin.h): call it with every reading, the host decides what
    // goes out. Needs a 1.1 host: on an older one it throws lucid::Error with
    // LUCID_ERR_UNSUPPORTED (see can_publish_metric()).
    void publish_metric(const std::string& metric, double value, const std::string& unit = "") {
        if (!can_publish_metric()) {
            throw Error(LUCID_ERR_UNSUPPORTED,
                        "publish_metric " + metric + ": the host offers no publish_metric");
        }
        check(api_->publish_metric(host_, metric.c_str(), value, unit.c_str()),
              "publish_metric " + metric);
    }
    // Whether the host offers the 1.1 functions (LUCID_HOST_HAS): an agent older than the
    // plugin leaves them out.
    bool can_publish_metric() const { return LUCID_HOST_HAS(api_, publish_metric); }
    bool can_deduplicate() const { return LUCID_HOST_HAS(api_, subscribe_with); }
    void log(lucid_log_level level, const std::string& message) const {
        api_->log(host_, level, message.c_str());
    }
    void log_debug(const std::string& message) const { log(LUCID_LOG_DEBUG, message); }
    void log_info(const std::string& message) const { log(LUCID_LOG_INFO, message); }
    void log_warning(const std::string& message) const { log(LUCID_LOG_WARNING, message); }
    void log_error(const std::string& message) const { log(LUCID_LOG_ERROR, message); }
    void report_running() {
        check(api_->report_status(host_, LUCID_STATE_RUNNING, nullptr), "status");
    }
    void report_failed(const std::string& error) {
        check(api_->report_status(host_, LUCID_STATE_FAILED, error.c_str()), "status");
    }
    // The component's config, a JSON object text ("{}" when none).
    std::string config() const {
        std::string out(api_->get_config(host_, nullptr, 0), '\0');
        // Retry: the config may grow between the two calls.
        for (;;) {
            size_t n = api_->get_config(host_, out.data(), out.size() + 1);
            if (n <= out.size()) {
                out.resize(n);
                return out;
            }
            out.assign(n, '\0');
        }
    }

  private:
    template <class T>
    friend struct detail::Adapter;

    void check(lucid_status status, const std::string& what) const {
        if (status != LUCID_OK) {
            // "publish a/+ failed: LUCID_ERR_INVALID_ARGUMENT (...)": a handler that lets it
            // escape answers the operator with this text (no std::to_string: its digit table is
            // an STB_GNU_UNIQUE symbol, which can keep dlclose() from unmapping the plugin).
            throw Error(status, what + " failed: " + detail::status_text(status));
        }
    }
    uint64_t start_timer(std::chrono::milliseconds first, std::chrono::milliseconds period,
                         TimerHandler handler) {
        auto owned = std::make_unique<TimerSlot>(TimerSlot{this, std::move(handler)});
        uint64_t id = 0;
        check(api_->timer_start(host_, static_cast<uint32_t>(first.count()),
                                static_cast<uint32_t>(period.count()), &on_timer, owned.get(), &id),
              "timer_start");
        std::lock_guard<std::mutex> lock(mutex_);
        timers_[id] = std::move(owned);  // one-shot handlers are kept until destroy
        return id;
    }

    template <class F>
    static lucid_status logged(const Plugin* self, const char* what, F&& f) noexcept {
        try {
            f();
            return LUCID_OK;
        } catch (const std::exception& e) {
            self->log(LUCID_LOG_ERROR, std::string(what) + " threw: " + e.what());
        } catch (...) {
            self->log(LUCID_LOG_ERROR, std::string(what) + " threw an unknown exception");
        }
        return LUCID_ERR_INTERNAL;
    }
    static lucid_status on_message(void* user, const lucid_message* m) noexcept {
        auto* slot = static_cast<MessageSlot*>(user);
        return logged(slot->self, "message handler", [&] {
            slot->fn(Message{m->topic,
                             {static_cast<const char*>(m->payload), m->payload_len},
                             m->qos,
                             m->retain != 0});
        });
    }
    static lucid_status on_timer(void* user) noexcept {
        auto* slot = static_cast<TimerSlot*>(user);
        return logged(slot->self, "timer handler", [&] { slot->fn(); });
    }
    static lucid_status on_command_call(void* user, const lucid_command* c,
                                        lucid_call* call) noexcept;

    const lucid_host_api* api_ = nullptr;
    lucid_host* host_ = nullptr;
    std::mutex mutex_;  // plugin threads may subscribe while the worker runs handlers
    // Handlers live in slots owned here; the host only holds their addresses as user_data.
    struct MessageSlot {
        Plugin* self;
        MessageHandler fn;
    };
    struct TimerSlot {
        Plugin* self;
        TimerHandler fn;
    };
    std::map<uint64_t, std::unique_ptr<MessageSlot>> messages_;
    std::map<uint64_t, std::unique_ptr<TimerSlot>> timers_;
    // The command trampoline needs the api table to answer through its lucid_call*.
    struct CommandSlot {
        const lucid_host_api* api;
        CommandHandler fn;
    };
    std::map<std::string, std::unique_ptr<CommandSlot>> commands_;
};

namespace detail {

// Turns the exception in flight into a status plus an error text on `call`.
inline lucid_status fail_from_exception(const lucid_host_api* api, lucid_call* call,
                                        lucid_status fallback) noexcept {
    try {
        throw;
    } catch (const Error& e) {
        api->call_fail(call, e.what());
        return e.status() == LUCID_OK ? fallback : e.status();
    } catch (const std::exception& e) {
        api->call_fail(call, e.what());
    } catch (...) {
        api->call_fail(call, "unknown exception");
    }
    return fallback;
}

template <class T>
struct Adapter {
    static lucid_status create(const lucid_host_api* api, lucid_host* host, void** out,
                               lucid_call* call) noexcept {
        try {
            auto plugin = std::make_unique<T>();
            Plugin& base = *plugin;
            base.api_ = api;
            base.host_ = host;
            *out = static_cast<Plugin*>(plugin.release());
            return LUCID_OK;
        } catch (...) {
            return fail_from_exception(api, call, LUCID_ERR_INTERNAL);
        }
    }
    static lucid_status start(void* instance, lucid_call* call) noexcept {
        Plugin* p = static_cast<Plugin*>(instance);
        try {
            p->start();
            return LUCID_OK;
        } catch (...) {
            return fail_from_exception(p->api_, call, LUCID_ERR_FAILED);
        }
    }
    static lucid_status stop(void* instance, lucid_call* call) noexcept {
        Plugin* p = static_cast<Plugin*>(instance);
        try {
            p->stop();
            return LUCID_OK;
        } catch (...) {
            return fail_from_exception(p->api_, call, LUCID_ERR_FAILED);
        }
    }
    static void destroy(void* instance) noexcept {
        try {
            delete static_cast<Plugin*>(instance);
        } catch (...) {  // a throwing destructor must not cross the ABI
        }
    }
    static lucid_status config_changed(void* instance, const char* json,
                                       lucid_call* call) noexcept {
        Plugin* p = static_cast<Plugin*>(instance);
        try {
            p->config_changed(json);
            return LUCID_OK;
        } catch (...) {
            return fail_from_exception(p->api_, call, LUCID_ERR_REFUSED);
        }
    }
    static constexpr lucid_plugin_descriptor descriptor(const char* dist, const char* version,
                                                        const char* cid) {
        return lucid_plugin_descriptor{sizeof(lucid_plugin_descriptor),
                                       LUCID_PLUGIN_ABI_VERSION,
                                       dist,
                                       version,
                                       cid,
                                       &create,
                                       &start,
                                       &stop,
                                       &destroy,
                                       &config_changed};
    }
};

}  // namespace detail

inline lucid_status Plugin::on_command_call(void* user, const lucid_command* c,
                                            lucid_call* call) noexcept {
    auto* slot = static_cast<CommandSlot*>(user);
    const lucid_host_api* api = slot->api;
    try {
        Command cmd{c->action, c->request_id, c->payload};
        std::string result = slot->fn(cmd);
        if (!result.empty()) {
            return api->call_respond(call, result.c_str());
        }
        return LUCID_OK;
    } catch (...) {
        return detail::fail_from_exception(api, call, LUCID_ERR_FAILED);
    }
}

}  // namespace lucid

// Declares the plugin class T. Inside a lucid_add_plugin() target the manifest comes from the
// DIST/VERSION/COMPONENT given there; elsewhere use LUCID_PLUGIN_NAMED.
#define LUCID_PLUGIN(T) \
    LUCID_PLUGIN_NAMED(T, LUCID_PLUGIN_DIST, LUCID_PLUGIN_VERSION, LUCID_PLUGIN_COMPONENT)

#define LUCID_PLUGIN_NAMED(T, dist, version, component_id)                    \
    LUCID_PLUGIN_MANIFEST(dist, version, component_id)                        \
    static constexpr lucid_plugin_descriptor lucid_plugin_descriptor_ =       \
        ::lucid::detail::Adapter<T>::descriptor(dist, version, component_id); \
    LUCID_PLUGIN_ENTRY(&lucid_plugin_descriptor_)
