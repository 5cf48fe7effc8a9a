// The C trampolines behind lucid_host_api: each forwards the C call to the PluginContext the
// `lucid_host*` handle is (plugin_context_api.cpp). No exception may leave them (the caller is
// plugin code), so every one ends in a catch-all.
#include "common/log_tap.hpp"
#include "plugin/plugin_context.hpp"
#include "plugin_abi/plugin_call.hpp"

namespace lucid::host {
namespace trampolines {

PluginContext& context_of(lucid_host* host) { return *reinterpret_cast<PluginContext*>(host); }

template <class F>
lucid_status guarded(lucid_host* host, const char* call, F&& f) noexcept {
    if (host == nullptr) return LUCID_ERR_INVALID_ARGUMENT;
    try {
        return f(context_of(host));
    } catch (const std::exception& e) {
        context_of(host).log_host_failure(call, e.what());
    } catch (...) {
    }
    return LUCID_ERR_INTERNAL;
}

lucid_status publish(lucid_host* host, const char* topic, const void* payload, size_t len, int qos,
                     int retain) {
    return guarded(host, "publish",
                   [&](PluginContext& c) { return c.publish(topic, payload, len, qos, retain); });
}

lucid_status publish_event(lucid_host* host, const char* type, const char* data,
                           const char* correlation_id) {
    return guarded(host, "publish_event",
                   [&](PluginContext& c) { return c.publish_event(type, data, correlation_id); });
}

lucid_status subscribe(lucid_host* host, const char* filter, int qos, lucid_message_fn fn,
                       void* user, uint64_t* out_id) {
    return guarded(host, "subscribe",
                   [&](PluginContext& c) { return c.subscribe(filter, qos, fn, user, out_id); });
}

lucid_status unsubscribe(lucid_host* host, uint64_t id) {
    return guarded(host, "unsubscribe", [&](PluginContext& c) { return c.unsubscribe(id); });
}

lucid_status timer_start(lucid_host* host, uint32_t first_ms, uint32_t period_ms, lucid_timer_fn fn,
                         void* user, uint64_t* out_id) {
    return guarded(host, "timer_start", [&](PluginContext& c) {
        return c.start_timer(first_ms, period_ms, fn, user, out_id);
    });
}

lucid_status timer_cancel(lucid_host* host, uint64_t id) {
    return guarded(host, "timer_cancel", [&](PluginContext& c) { return c.cancel_timer(id); });
}

void log(lucid_host* host, lucid_log_level level, const char* message) {
    guarded(host, "log", [&](PluginContext& c) {
        c.log(level, message);
        return LUCID_OK;
    });
}

lucid_status report_status(lucid_host* host, lucid_component_state state, const char* error) {
    return guarded(host, "report_status",
                   [&](PluginContext& c) { return c.report_status(state, error); });
}

size_t get_config(lucid_host* host, char* buf, size_t capacity) {
    size_t length = 0;
    guarded(host, "get_config", [&](PluginContext& c) {
        length = c.copy_config(buf, capacity);
        return LUCID_OK;
    });
    return length;
}

lucid_status register_command(lucid_host* host, const char* action, lucid_command_fn fn,
                              void* user) {
    return guarded(host, "register_command",
                   [&](PluginContext& c) { return c.register_command(action, fn, user); });
}

lucid_status unregister_command(lucid_host* host, const char* action) {
    return guarded(host, "unregister_command",
                   [&](PluginContext& c) { return c.unregister_command(action); });
}

lucid_status publish_metric(lucid_host* host, const char* metric, double value, const char* unit) {
    return guarded(host, "publish_metric",
                   [&](PluginContext& c) { return c.publish_metric(metric, value, unit); });
}

lucid_status subscribe_with(lucid_host* host, const char* filter, int qos,
                            const lucid_subscribe_options* options, lucid_message_fn fn, void* user,
                            uint64_t* out_id) {
    return guarded(host, "subscribe_with", [&](PluginContext& c) {
        return c.subscribe_with(filter, qos, options, fn, user, out_id);
    });
}

void call_fail(lucid_call* call, const char* message) {
    if (!call) return;
    try {
        // What the operator reads (a result's error, a status, a refusal), often an exception's
        // what(): cut, redacted and kept on one line as the plugin's log lines are.
        PluginCall::from(call)->fail(
            LogTap::instance().plugin_line(message ? message : "").c_str());
    } catch (...) {
    }
}

lucid_status call_respond(lucid_call* call, const char* result_json) {
    if (!call) return LUCID_ERR_INVALID_ARGUMENT;
    try {
        return PluginCall::from(call)->respond(result_json);
    } catch (...) {
        return LUCID_ERR_INTERNAL;
    }
}

}  // namespace trampolines

const lucid_host_api& PluginContext::api_table() {
    static const lucid_host_api table = [] {
        lucid_host_api t{};
        t.struct_size = sizeof(lucid_host_api);
        t.abi_version = LUCID_PLUGIN_ABI_VERSION;
        t.publish = &trampolines::publish;
        t.publish_event = &trampolines::publish_event;
        t.subscribe = &trampolines::subscribe;
        t.unsubscribe = &trampolines::unsubscribe;
        t.timer_start = &trampolines::timer_start;
        t.timer_cancel = &trampolines::timer_cancel;
        t.log = &trampolines::log;
        t.report_status = &trampolines::report_status;
        t.get_config = &trampolines::get_config;
        t.register_command = &trampolines::register_command;
        t.unregister_command = &trampolines::unregister_command;
        t.call_fail = &trampolines::call_fail;
        t.call_respond = &trampolines::call_respond;
        t.publish_metric = &trampolines::publish_metric;
        t.subscribe_with = &trampolines::subscribe_with;
        return t;
    }();
    return table;
}

}  // namespace lucid::host
