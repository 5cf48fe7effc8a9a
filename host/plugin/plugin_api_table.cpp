// The C trampolines behind lucid_host_api: each converts the C call into PluginContext state
// and PluginHostServices calls. No exception may leave them (the caller is plugin code), so
// every one ends in a catch-all.
#include <cstring>

#include <rapidjson/document.h>
#include <spdlog/spdlog.h>

#include "contract/timestamp.hpp"
#include "plugin/event_envelope.hpp"
#include "plugin/plugin_call.hpp"
#include "plugin/plugin_context.hpp"
#include "plugin/plugin_topics.hpp"

namespace lucid::host {

struct PluginApi {
    static PluginContext& self(lucid_host* host) { return *reinterpret_cast<PluginContext*>(host); }

    template <class F>
    static lucid_status guarded(lucid_host* host, const char* what, F&& f) noexcept {
        if (host == nullptr) return LUCID_ERR_INVALID_ARGUMENT;
        try {
            return f(self(host));
        } catch (const std::exception& e) {
            try {
                self(host).log_->error("{} failed inside the host: {}", what, e.what());
            } catch (...) {
            }
        } catch (...) {
        }
        return LUCID_ERR_INTERNAL;
    }

    static bool closed(PluginContext& ctx) {
        std::lock_guard<std::mutex> lock(ctx.mutex_);
        return ctx.phase_ == PluginContext::Phase::stopped;
    }

    template <class Registered>
    static bool still_registered(PluginContext& ctx, Registered&& registered) {
        std::lock_guard<std::mutex> lock(ctx.mutex_);
        return registered();
    }

    static lucid_status publish(lucid_host* host, const char* topic, const void* payload,
                                size_t len, int qos, int retain) {
        return guarded(host, "publish", [&](PluginContext& ctx) {
            if (!topic || (!payload && len > 0) || qos < 0 || qos > 2) {
                return LUCID_ERR_INVALID_ARGUMENT;
            }
            if (closed(ctx)) return LUCID_ERR_STATE;
            ResolvedTopic resolved =
                resolve_publish_topic(ctx.base_topic_, ctx.component_id_, topic);
            if (!resolved.ok()) {
                ctx.log_->warn("publish refused: {}", resolved.error);
                return LUCID_ERR_INVALID_ARGUMENT;
            }
            std::string body(static_cast<const char*>(payload), len);
            return ctx.host_.publish(resolved.topic, body, qos, retain != 0) ? LUCID_OK
                                                                             : LUCID_ERR_FAILED;
        });
    }

    static lucid_status publish_event(lucid_host* host, const char* type, const char* data,
                                      const char* correlation_id) {
        return guarded(host, "publish_event", [&](PluginContext& ctx) {
            if (!type || !is_valid_event_type(type)) return LUCID_ERR_INVALID_ARGUMENT;
            if (closed(ctx)) return LUCID_ERR_STATE;
            EventFields fields;
            fields.id = new_event_id();
            fields.type = type;
            fields.ts = contract::utc_timestamp(ctx.host_.now());
            fields.source = ctx.prefix_.substr(0, ctx.prefix_.size() - 1);
            if (correlation_id) fields.correlation_id = correlation_id;
            EnvelopeResult envelope = event_envelope(fields, data ? data : "");
            if (!envelope.ok()) {
                ctx.log_->warn("publish_event {} refused: {}", type, envelope.error);
                return LUCID_ERR_INVALID_ARGUMENT;
            }
            return ctx.host_.publish(ctx.prefix_ + "evt/" + type, envelope.payload, 1, false)
                       ? LUCID_OK
                       : LUCID_ERR_FAILED;
        });
    }

    static lucid_status subscribe(lucid_host* host, const char* filter, int qos,
                                  lucid_message_fn fn, void* user, uint64_t* out_id) {
        return guarded(host, "subscribe", [&](PluginContext& ctx) {
            if (!filter || !fn || !out_id || qos < 0 || qos > 2) return LUCID_ERR_INVALID_ARGUMENT;
            ResolvedTopic resolved =
                resolve_subscription_filter(ctx.base_topic_, ctx.component_id_, filter);
            if (!resolved.ok()) {
                ctx.log_->warn("subscribe refused: {}", resolved.error);
                return LUCID_ERR_INVALID_ARGUMENT;
            }
            std::uint64_t id = ctx.worker_.next_id();
            {
                std::lock_guard<std::mutex> lock(ctx.mutex_);
                if (!ctx.accepting()) return LUCID_ERR_STATE;
                ctx.subscriptions_[id] = PluginContext::Subscription{resolved.topic, fn, user};
            }
            ctx.host_.subscribe(ctx.component_id_, resolved.topic, qos);
            if (!still_registered(ctx, [&] { return ctx.subscriptions_.count(id) > 0; })) {
                // Forgotten (a start that timed out, a stop) between our insert and the broker
                // subscription: that forget could not undo what did not exist yet.
                ctx.host_.unsubscribe(ctx.component_id_, resolved.topic);
                return LUCID_ERR_STATE;
            }
            *out_id = id;
            return LUCID_OK;
        });
    }

    static lucid_status unsubscribe(lucid_host* host, uint64_t id) {
        return guarded(host, "unsubscribe", [&](PluginContext& ctx) {
            std::string filter;
            {
                std::lock_guard<std::mutex> lock(ctx.mutex_);
                auto it = ctx.subscriptions_.find(id);
                if (it == ctx.subscriptions_.end()) return LUCID_ERR_NOT_FOUND;
                filter = it->second.filter;
                ctx.subscriptions_.erase(it);
            }
            ctx.host_.unsubscribe(ctx.component_id_, filter);
            ctx.worker_.wait_idle(id);  // a delivery in flight finishes before we return
            return LUCID_OK;
        });
    }

    static lucid_status timer_start(lucid_host* host, uint32_t first_ms, uint32_t period_ms,
                                    lucid_timer_fn fn, void* user, uint64_t* out_id) {
        return guarded(host, "timer_start", [&](PluginContext& ctx) {
            if (!fn || !out_id) return LUCID_ERR_INVALID_ARGUMENT;
            {
                std::lock_guard<std::mutex> lock(ctx.mutex_);
                if (!ctx.accepting()) return LUCID_ERR_STATE;
            }
            PluginContext* c = &ctx;
            std::uint64_t id = ctx.worker_.start_timer(
                std::chrono::milliseconds(first_ms), std::chrono::milliseconds(period_ms),
                [c, fn, user] {
                    lucid_status status = fn(user);
                    if (status != LUCID_OK) {
                        c->log_->warn("timer callback returned lucid_status {}", status);
                    }
                });
            if (id == 0) return LUCID_ERR_STATE;
            *out_id = id;
            return LUCID_OK;
        });
    }

    static lucid_status timer_cancel(lucid_host* host, uint64_t id) {
        return guarded(host, "timer_cancel", [&](PluginContext& ctx) {
            return ctx.worker_.cancel_timer(id) ? LUCID_OK : LUCID_ERR_NOT_FOUND;
        });
    }

    static void log(lucid_host* host, lucid_log_level level, const char* message) {
        guarded(host, "log", [&](PluginContext& ctx) {
            static constexpr spdlog::level::level_enum levels[] = {
                spdlog::level::debug, spdlog::level::info, spdlog::level::warn, spdlog::level::err};
            int index = static_cast<int>(level);
            ctx.log_->log(index >= 0 && index < 4 ? levels[index] : spdlog::level::info, "{}",
                          message ? message : "");
            return LUCID_OK;
        });
    }

    static lucid_status report_status(lucid_host* host, lucid_component_state state,
                                      const char* error) {
        return guarded(host, "report_status", [&](PluginContext& ctx) {
            if (state != LUCID_STATE_RUNNING && state != LUCID_STATE_FAILED) {
                return LUCID_ERR_INVALID_ARGUMENT;
            }
            {
                std::lock_guard<std::mutex> lock(ctx.mutex_);
                if (ctx.phase_ != PluginContext::Phase::starting &&
                    ctx.phase_ != PluginContext::Phase::running) {
                    return LUCID_ERR_STATE;
                }
            }
            ctx.report_plugin_status(
                state == LUCID_STATE_RUNNING ? ComponentState::running : ComponentState::failed,
                error ? error : "");
            return LUCID_OK;
        });
    }

    static size_t get_config(lucid_host* host, char* buf, size_t capacity) {
        size_t length = 0;
        guarded(host, "get_config", [&](PluginContext& ctx) {
            std::string config = ctx.host_.read_config(ctx.component_id_);
            length = config.size();
            if (buf && capacity > 0) {
                size_t n = std::min(length, capacity - 1);
                std::memcpy(buf, config.data(), n);
                buf[n] = '\0';
            }
            return LUCID_OK;
        });
        return length;
    }

    static lucid_status register_command(lucid_host* host, const char* action, lucid_command_fn fn,
                                         void* user) {
        return guarded(host, "register_command", [&](PluginContext& ctx) {
            if (!action || !fn || !is_valid_event_type(action)) return LUCID_ERR_INVALID_ARGUMENT;
            // No subscription of its own: the agent holds `components/+/cmd/+` for every
            // component, so that commands wait in the broker's session while it is stopped.
            std::lock_guard<std::mutex> lock(ctx.mutex_);
            if (!ctx.accepting()) return LUCID_ERR_STATE;
            ctx.commands_[action] = PluginContext::CommandHandler{ctx.worker_.next_id(), fn, user};
            return LUCID_OK;
        });
    }

    static lucid_status unregister_command(lucid_host* host, const char* action) {
        return guarded(host, "unregister_command", [&](PluginContext& ctx) {
            if (!action) return LUCID_ERR_INVALID_ARGUMENT;
            std::uint64_t tag = 0;
            {
                std::lock_guard<std::mutex> lock(ctx.mutex_);
                auto it = ctx.commands_.find(std::string_view(action));
                if (it == ctx.commands_.end()) return LUCID_ERR_NOT_FOUND;
                tag = it->second.tag;
                ctx.commands_.erase(it);
            }
            ctx.worker_.wait_idle(tag);
            return LUCID_OK;
        });
    }

    static void call_fail(lucid_call* call, const char* message) {
        if (!call) return;
        try {
            PluginCall::from(call)->error = message ? message : "";
        } catch (...) {
        }
    }

    static lucid_status call_respond(lucid_call* call, const char* result_json) {
        if (!call || !result_json) return LUCID_ERR_INVALID_ARGUMENT;
        try {
            rapidjson::Document doc;
            doc.Parse(result_json);
            if (doc.HasParseError() || !doc.IsObject()) return LUCID_ERR_INVALID_ARGUMENT;
            PluginCall* state = PluginCall::from(call);
            state->result_json = result_json;
            state->responded = true;
            return LUCID_OK;
        } catch (...) {
            return LUCID_ERR_INTERNAL;
        }
    }
};

const lucid_host_api& PluginContext::api_table() {
    static const lucid_host_api table = [] {
        lucid_host_api t{};
        t.struct_size = sizeof(lucid_host_api);
        t.abi_version = LUCID_PLUGIN_ABI_VERSION;
        t.publish = &PluginApi::publish;
        t.publish_event = &PluginApi::publish_event;
        t.subscribe = &PluginApi::subscribe;
        t.unsubscribe = &PluginApi::unsubscribe;
        t.timer_start = &PluginApi::timer_start;
        t.timer_cancel = &PluginApi::timer_cancel;
        t.log = &PluginApi::log;
        t.report_status = &PluginApi::report_status;
        t.get_config = &PluginApi::get_config;
        t.register_command = &PluginApi::register_command;
        t.unregister_command = &PluginApi::unregister_command;
        t.call_fail = &PluginApi::call_fail;
        t.call_respond = &PluginApi::call_respond;
        return t;
    }();
    return table;
}

}  // namespace lucid::host
