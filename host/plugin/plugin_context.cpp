#include "plugin/plugin_context.hpp"

#include <vector>

#include <rapidjson/document.h>

#include "common/logging.hpp"
#include "contract/command_request.hpp"
#include "contract/payloads.hpp"
#include "mqtt/topic_filter.hpp"
#include "plugin/plugin_call.hpp"
#include "plugin/plugin_topics.hpp"

namespace lucid::host {

namespace {

// Runs one plugin callback; an exception that escapes a (non-C++-wrapper) plugin is turned
// into a status here rather than killing the worker.
template <class F>
lucid_status call_plugin(PluginCall& call, F&& f) noexcept {
    try {
        return f();
    } catch (const std::exception& e) {
        call.error = std::string("exception escaped the plugin: ") + e.what();
    } catch (...) {
        call.error = "exception escaped the plugin";
    }
    return LUCID_ERR_INTERNAL;
}

}  // namespace

PluginContext::PluginContext(const lucid_plugin_descriptor& descriptor, std::string component_id,
                             std::string version, PluginHostServices& services,
                             std::chrono::milliseconds call_timeout)
    : descriptor_(descriptor),
      component_id_(std::move(component_id)),
      version_(std::move(version)),
      services_(services),
      call_timeout_(call_timeout),
      prefix_(component_prefix(services.base_topic(), component_id_)),
      log_(logger("plugin." + component_id_)),
      worker_("plugin." + component_id_) {
    status_ = ComponentStatus{"stopped", version_, ""};
}

PluginContext::~PluginContext() {
    bool running = false;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        running = phase_ == Phase::running || phase_ == Phase::starting;
    }
    if (running) stop();
}

bool PluginContext::accepting() const {
    return phase_ == Phase::starting || phase_ == Phase::running;
}

ComponentStatus PluginContext::status() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return status_;
}

void PluginContext::set_status(std::string state, std::string error) {
    ComponentStatus copy;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        status_.state = std::move(state);
        status_.error = std::move(error);
        copy = status_;
    }
    services_.status_changed(component_id_, copy);
}

void PluginContext::forget_registrations() {
    worker_.cancel_all_timers();
    std::vector<std::string> filters;
    bool had_commands = false;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        for (auto& [id, sub] : subscriptions_) filters.push_back(sub.filter);
        subscriptions_.clear();
        had_commands = !commands_.empty();
        commands_.clear();
    }
    for (const auto& filter : filters) services_.unsubscribe(component_id_, filter);
    if (had_commands) services_.unsubscribe(component_id_, prefix_ + "cmd/+");
}

PluginContext::StepResult PluginContext::start() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (phase_ != Phase::created) return StepResult{false, "already started", false};
        phase_ = Phase::starting;
    }
    set_status("starting", "");
    // Shared: after a timeout the task may still finish later and must write somewhere valid.
    auto outcome = std::make_shared<StepResult>();
    bool finished = worker_.run_and_wait(
        [this, outcome] {
            PluginCall call;
            const lucid_host_api* api = &api_table();
            auto* host = reinterpret_cast<lucid_host*>(this);
            lucid_status status = call_plugin(
                call, [&] { return descriptor_.create(api, host, &instance_, call.handle()); });
            if (status != LUCID_OK) {
                outcome->error = call.failure("create", status);
                instance_ = nullptr;
                forget_registrations();
                return;
            }
            status = call_plugin(call, [&] { return descriptor_.start(instance_, call.handle()); });
            if (status != LUCID_OK) {
                outcome->error = call.failure("start", status);
                // A failed start is not stopped, only destroyed (lucid/plugin.h).
                forget_registrations();
                descriptor_.destroy(instance_);
                instance_ = nullptr;
                return;
            }
            outcome->ok = true;
        },
        call_timeout_);
    if (!finished) {
        outcome->stuck = true;
        outcome->error =
            "start did not return within " + std::to_string(call_timeout_.count()) + " ms";
    }
    {
        std::lock_guard<std::mutex> lock(mutex_);
        phase_ = outcome->ok ? Phase::running : Phase::stopped;
    }
    if (outcome->ok) {
        set_status("running", "");
        return *outcome;
    }
    log_->error("{}", outcome->error);
    if (!outcome->stuck) worker_.shutdown(call_timeout_);
    set_status("failed", outcome->error);
    return StepResult{false, outcome->error, outcome->stuck};
}

PluginContext::StepResult PluginContext::stop() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (phase_ != Phase::running) {
            return StepResult{phase_ == Phase::stopped, "not running", false};
        }
        phase_ = Phase::stopping;  // no new deliveries, timers or subscriptions from here on
    }
    // Forgotten before stop() so that nothing new is queued; what is already queued runs
    // first (FIFO), then stop and destroy.
    forget_registrations();
    auto outcome = std::make_shared<StepResult>();
    bool finished = worker_.run_and_wait(
        [this, outcome] {
            PluginCall call;
            lucid_status status =
                call_plugin(call, [&] { return descriptor_.stop(instance_, call.handle()); });
            if (status != LUCID_OK) outcome->error = call.failure("stop", status);
            forget_registrations();  // whatever stop() itself registered
            descriptor_.destroy(instance_);
            instance_ = nullptr;
            outcome->ok = status == LUCID_OK;
        },
        call_timeout_);
    StepResult result = finished ? *outcome : StepResult{};
    if (!finished) {
        result.stuck = true;
        result.error =
            "stop did not return within " + std::to_string(call_timeout_.count()) + " ms";
    } else if (!worker_.shutdown(call_timeout_)) {
        result.stuck = true;
    }
    {
        std::lock_guard<std::mutex> lock(mutex_);
        phase_ = Phase::stopped;
    }
    if (!result.error.empty()) log_->error("{}", result.error);
    set_status(result.stuck ? "failed" : "stopped", result.error);
    return result;
}

bool PluginContext::deliver_message(const std::string& topic, const std::string& payload, int qos,
                                    bool retain) {
    std::vector<std::uint64_t> matches;
    std::string action;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (!accepting()) return false;
        for (const auto& [id, sub] : subscriptions_) {
            if (mqtt::topic_matches(sub.filter, topic)) matches.push_back(id);
        }
        const std::string cmd_prefix = prefix_ + "cmd/";
        // A retained command would be replayed by the broker on every reconnect: like the
        // agent's own commands, it is ignored.
        if (!retain && !commands_.empty() && topic.compare(0, cmd_prefix.size(), cmd_prefix) == 0 &&
            topic.find('/', cmd_prefix.size()) == std::string::npos) {
            action = topic.substr(cmd_prefix.size());
        }
    }
    for (std::uint64_t id : matches) {
        worker_.post(
            [this, id, topic, payload, qos, retain] {
                Subscription sub;
                {
                    // Unsubscribed since it was queued: its user_data may be gone.
                    std::lock_guard<std::mutex> lock(mutex_);
                    auto it = subscriptions_.find(id);
                    if (it == subscriptions_.end()) return;
                    sub = it->second;
                }
                lucid_message message{sizeof(lucid_message), 0,   topic.c_str(), payload.data(),
                                      payload.size(),        qos, retain ? 1 : 0};
                PluginCall call;
                lucid_status status = call_plugin(call, [&] { return sub.fn(sub.user, &message); });
                if (status != LUCID_OK) {
                    log_->warn("message handler for {} returned lucid_status {} {}", topic, status,
                               call.error);
                }
            },
            id);
    }
    if (!action.empty()) {
        std::uint64_t tag = 0;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            auto it = commands_.find(action);
            if (it != commands_.end()) tag = it->second.tag;
        }
        if (tag == 0 && matches.empty()) {
            publish_result(action, payload);  // answers "unknown command"
        } else if (tag != 0) {
            worker_.post([this, action, payload] { run_command(action, payload); }, tag);
        }
    }
    return !matches.empty() || !action.empty();
}

void PluginContext::run_command(const std::string& action, const std::string& payload) {
    publish_result(action, payload);
}

// Parses the request, runs the handler when there is one (on the worker), and publishes the
// result on components/{cid}/evt/{action}_result.
void PluginContext::publish_result(const std::string& action, const std::string& payload) {
    contract::CommandRequest request = contract::parse_command(payload);
    contract::Result result(request.request_id, services_.now());
    if (!request.ok()) {
        result.fail(request.error);
    } else {
        CommandHandler handler{0, nullptr, nullptr};
        {
            std::lock_guard<std::mutex> lock(mutex_);
            auto it = commands_.find(action);
            if (it != commands_.end()) handler = it->second;
        }
        if (!handler.fn) {
            result.fail("unknown command: " + action);
        } else {
            lucid_command command{sizeof(lucid_command), 0, action.c_str(),
                                  request.request_id.c_str(), payload.c_str()};
            PluginCall call;
            lucid_status status = call_plugin(
                call, [&] { return handler.fn(handler.user, &command, call.handle()); });
            if (status != LUCID_OK) {
                result.fail(call.error.empty() ? call.failure(action.c_str(), status) : call.error);
            } else if (call.responded) {
                rapidjson::Document members(&result.allocator());
                members.Parse(call.result_json.c_str());
                for (auto& member : members.GetObject()) {
                    std::string key(member.name.GetString(), member.name.GetStringLength());
                    // The contract's own fields are not the plugin's to overwrite.
                    if (key == "schema" || key == "ts" || key == "request_id" || key == "ok" ||
                        key == "error") {
                        continue;
                    }
                    result.set(key, member.value);
                }
            }
        }
    }
    services_.publish(prefix_ + "evt/" + action + "_result", result.str(), 1, false);
}

PluginContext::StepResult PluginContext::propose_config(const std::string& config_json) {
    rapidjson::Document doc;
    doc.Parse(config_json.c_str());
    if (doc.HasParseError() || !doc.IsObject()) {
        return StepResult{false, "config must be a JSON object", false};
    }
    bool running = false;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        running = phase_ == Phase::running;
    }
    if (!running) {
        // Nothing to ask: the plugin sees the config at its next start.
        services_.persist_config(component_id_, config_json);
        return StepResult{true, "", false};
    }
    auto outcome = std::make_shared<StepResult>();
    bool finished = worker_.run_and_wait(
        [this, outcome, config_json] {
            if (!descriptor_.config_changed) {  // older plugins and C plugins without a hook
                services_.persist_config(component_id_, config_json);
                outcome->ok = true;
                return;
            }
            PluginCall call;
            lucid_status status = call_plugin(call, [&] {
                return descriptor_.config_changed(instance_, config_json.c_str(), call.handle());
            });
            outcome->ok = status == LUCID_OK;
            // Stored before the worker runs anything else, so that the next callback reads it.
            if (outcome->ok) services_.persist_config(component_id_, config_json);
            if (!outcome->ok) {
                outcome->error =
                    call.error.empty() ? call.failure("config change", status) : call.error;
            }
        },
        call_timeout_);
    if (!finished) {
        return StepResult{false, "plugin did not answer the config change in time", false};
    }
    return *outcome;  // a refused config changed nothing
}

}  // namespace lucid::host
