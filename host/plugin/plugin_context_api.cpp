// PluginContext: the plugin's calls into the host (lucid_host_api), as members the C
// trampolines (plugin_api_table.cpp) forward to. Any thread the plugin calls from.
#include <cmath>
#include <cstring>

#include <spdlog/spdlog.h>

#include "common/log_redaction.hpp"
#include "common/log_tap.hpp"
#include "contract/timestamp.hpp"
#include "plugin/event_envelope.hpp"
#include "plugin/plugin_context.hpp"
#include "plugin/plugin_topics.hpp"
#include "plugin_abi/plugin_call.hpp"
#include "plugin_abi/subscribe_options.hpp"

namespace lucid::host {

bool PluginContext::closed() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return phase_ == Phase::stopped;
}

void PluginContext::log_host_failure(const char* call, const char* error) const noexcept {
    try {
        log_->error("{} failed inside the host: {}", call, error);
    } catch (...) {
    }
}

lucid_status PluginContext::publish(const char* topic, const void* payload, size_t len, int qos,
                                    bool retain) {
    if (!topic || (!payload && len > 0) || qos < 0 || qos > 2) return LUCID_ERR_INVALID_ARGUMENT;
    if (closed()) return LUCID_ERR_STATE;
    ResolvedTopic resolved = resolve_publish_topic(base_topic_, component_id_, topic);
    if (!resolved.ok()) {
        log_->warn("publish refused: {}", resolved.error);
        return LUCID_ERR_INVALID_ARGUMENT;
    }
    std::string body(static_cast<const char*>(payload), len);
    return host_.publish(resolved.topic, body, qos, retain) ? LUCID_OK : LUCID_ERR_FAILED;
}

lucid_status PluginContext::publish_event(const char* type, const char* data,
                                          const char* correlation_id) {
    if (!type || !is_valid_event_type(type)) return LUCID_ERR_INVALID_ARGUMENT;
    if (closed()) return LUCID_ERR_STATE;
    EventFields fields;
    fields.id = new_event_id();
    fields.type = type;
    fields.ts = contract::utc_timestamp(host_.now());
    fields.source = prefix_.substr(0, prefix_.size() - 1);
    if (correlation_id) fields.correlation_id = correlation_id;
    EnvelopeResult envelope = event_envelope(fields, data ? data : "");
    if (!envelope.ok()) {
        log_->warn("publish_event {} refused: {}", type, envelope.error);
        return LUCID_ERR_INVALID_ARGUMENT;
    }
    return host_.publish(prefix_ + "evt/" + type, envelope.payload, 1, false) ? LUCID_OK
                                                                              : LUCID_ERR_FAILED;
}

lucid_status PluginContext::subscribe(const char* filter, int qos, lucid_message_fn fn, void* user,
                                      uint64_t* out_id) {
    return subscribe_with(filter, qos, nullptr, fn, user, out_id);
}

lucid_status PluginContext::subscribe_with(const char* filter, int qos,
                                           const lucid_subscribe_options* options,
                                           lucid_message_fn fn, void* user, uint64_t* out_id) {
    if (!filter || !fn || !out_id || qos < 0 || qos > 2) return LUCID_ERR_INVALID_ARGUMENT;
    const auto flags = plugin_abi::subscribe_flags(options);
    if (!flags) return LUCID_ERR_INVALID_ARGUMENT;
    // A flag of a newer minor version: the plugin must learn that this host lacks it.
    if (*flags & ~plugin_abi::kKnownSubscribeFlags) return LUCID_ERR_UNSUPPORTED;
    std::shared_ptr<DuplicateFilter> dedup;
    if (*flags & LUCID_SUBSCRIBE_DEDUP) dedup = std::make_shared<DuplicateFilter>();
    ResolvedTopic resolved = resolve_subscription_filter(base_topic_, component_id_, filter);
    if (!resolved.ok()) {
        log_->warn("subscribe refused: {}", resolved.error);
        return LUCID_ERR_INVALID_ARGUMENT;
    }
    const std::uint64_t id = worker_.next_id();
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (!accepting()) return LUCID_ERR_STATE;
        subscriptions_[id] = Subscription{resolved.topic, fn, user, std::move(dedup)};
    }
    host_.subscribe(component_id_, id, resolved.topic, qos);
    bool still_registered = false;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        still_registered = subscriptions_.count(id) > 0;
    }
    if (!still_registered) {
        // Forgotten (a start that timed out, a stop) between our insert and the broker
        // subscription: that forget could not undo what did not exist yet.
        host_.unsubscribe(component_id_, id, resolved.topic);
        return LUCID_ERR_STATE;
    }
    *out_id = id;
    return LUCID_OK;
}

lucid_status PluginContext::publish_metric(const char* metric, double value, const char* unit) {
    if (!metric || !is_valid_metric_name(metric) || !std::isfinite(value)) {
        // Said once per name: a plugin that publishes from a timer would repeat it every tick,
        // and its author needs the rule, not only LUCID_ERR_INVALID_ARGUMENT.
        const std::string name = metric ? escape_control_characters(metric) : "(NULL)";
        bool first = false;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            if (refused_metric_names_.size() < kRefusedMetricNamesKept) {
                first = refused_metric_names_.insert(name).second;
            }
        }
        if (first) {
            log_->warn(metric && is_valid_metric_name(metric)
                           ? "publish_metric refused {}: its value is not finite (said once)"
                           : "publish_metric refused '{}': a metric name is "
                             "[a-z0-9][a-z0-9_-]{{0,63}} (said once per name)",
                       name);
        }
        return LUCID_ERR_INVALID_ARGUMENT;
    }
    if (closed()) return LUCID_ERR_STATE;
    return host_.publish_metric(component_id_, metric, value, unit ? unit : "") ? LUCID_OK
                                                                                : LUCID_ERR_FAILED;
}

lucid_status PluginContext::unsubscribe(uint64_t id) {
    std::string filter;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        auto it = subscriptions_.find(id);
        if (it == subscriptions_.end()) return LUCID_ERR_NOT_FOUND;
        filter = it->second.filter;
        subscriptions_.erase(it);
    }
    host_.unsubscribe(component_id_, id, filter);
    // A delivery in flight finishes before we return (in a runner, the child sees to it).
    if (!site_.in_runner) worker_.wait_idle(id);
    return LUCID_OK;
}

lucid_status PluginContext::start_timer(uint32_t first_ms, uint32_t period_ms, lucid_timer_fn fn,
                                        void* user, uint64_t* out_id) {
    if (!fn || !out_id) return LUCID_ERR_INVALID_ARGUMENT;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (!accepting()) return LUCID_ERR_STATE;
    }
    const std::uint64_t id =
        worker_.start_timer(std::chrono::milliseconds(first_ms),
                            std::chrono::milliseconds(period_ms), [this, fn, user] {
                                lucid_status status = fn(user);
                                if (status != LUCID_OK)
                                    log_->warn("timer callback returned lucid_status {} {}", status,
                                               PluginCall::status_name(status));
                            });
    if (id == 0) return LUCID_ERR_STATE;
    *out_id = id;
    return LUCID_OK;
}

lucid_status PluginContext::cancel_timer(uint64_t id) {
    return worker_.cancel_timer(id, !site_.in_runner) ? LUCID_OK : LUCID_ERR_NOT_FOUND;
}

void PluginContext::log(lucid_log_level level, const char* message) {
    static constexpr spdlog::level::level_enum levels[] = {
        spdlog::level::debug, spdlog::level::info, spdlog::level::warn, spdlog::level::err};
    const int index = static_cast<int>(level);
    // A plugin's text is cut, redacted and kept on one line (common/log_tap.hpp): the log file
    // and the `logs` stream get the same line, without the broker password or credentials, and
    // without a line break that would start a forged line of the agent's.
    log_->log(index >= 0 && index < 4 ? levels[index] : spdlog::level::info, "{}",
              LogTap::instance().plugin_line(message ? message : ""));
}

lucid_status PluginContext::report_status(lucid_component_state state, const char* error) {
    if (state != LUCID_STATE_RUNNING && state != LUCID_STATE_FAILED) {
        return LUCID_ERR_INVALID_ARGUMENT;
    }
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (phase_ != Phase::starting && phase_ != Phase::running) return LUCID_ERR_STATE;
    }
    // Shown in the component's status: cut and redacted as its log lines are.
    report_plugin_status(
        state == LUCID_STATE_RUNNING ? ComponentState::running : ComponentState::failed,
        error && *error ? LogTap::instance().plugin_line(error) : std::string());
    return LUCID_OK;
}

size_t PluginContext::copy_config(char* buf, size_t capacity) {
    const std::string config = host_.read_config(component_id_);
    if (buf && capacity > 0) {
        const size_t n = std::min(config.size(), capacity - 1);
        std::memcpy(buf, config.data(), n);
        buf[n] = '\0';
    }
    return config.size();
}

lucid_status PluginContext::register_command(const char* action, lucid_command_fn fn, void* user) {
    if (!action || !fn || !is_valid_event_type(action)) return LUCID_ERR_INVALID_ARGUMENT;
    // No subscription of its own: the agent holds `components/+/cmd/+` for every component, so
    // that commands wait in the broker's session while it is stopped.
    std::lock_guard<std::mutex> lock(mutex_);
    if (!accepting()) return LUCID_ERR_STATE;
    commands_[action] = CommandHandler{worker_.next_id(), fn, user};
    return LUCID_OK;
}

lucid_status PluginContext::unregister_command(const char* action) {
    if (!action) return LUCID_ERR_INVALID_ARGUMENT;
    std::uint64_t tag = 0;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        auto it = commands_.find(std::string_view(action));
        if (it == commands_.end()) return LUCID_ERR_NOT_FOUND;
        tag = it->second.tag;
        commands_.erase(it);
    }
    if (!site_.in_runner) worker_.wait_idle(tag);
    return LUCID_OK;
}

}  // namespace lucid::host
