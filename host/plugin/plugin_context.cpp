#include "plugin/plugin_context.hpp"

#include <algorithm>
#include <utility>
#include <vector>

#include <rapidjson/document.h>

#include "common/logging.hpp"
#include "contract/command_request.hpp"
#include "contract/payloads.hpp"
#include "mqtt/topic_filter.hpp"
#include "plugin/crash_record.hpp"
#include "plugin/plugin_callback.hpp"
#include "plugin/plugin_stall_watch.hpp"
#include "plugin/plugin_topics.hpp"

namespace lucid::host {

PluginContext::PluginContext(const lucid_plugin_descriptor& descriptor, std::string component_id,
                             std::string version, PluginHostServices& services,
                             std::chrono::milliseconds call_timeout, PluginWorker::Limits queue,
                             PluginCallbackSite site)
    : descriptor_(descriptor),
      component_id_(std::move(component_id)),
      version_(std::move(version)),
      host_(services),
      call_timeout_(call_timeout),
      site_(std::move(site)),
      base_topic_(services.base_topic()),
      prefix_(component_prefix(base_topic_, component_id_)),
      log_(logger("plugin." + component_id_)),
      worker_("plugin." + component_id_, crash::worker_identity(component_id_, version_), queue) {
    status_ = ComponentStatus{ComponentState::stopped, version_, ""};
}

PluginContext::~PluginContext() {
    bool running = false;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        running = phase_ == Phase::running || phase_ == Phase::starting;
    }
    if (running) stop();
    // Its code may still run on the detached worker: better mapped for ever than unmapped under
    // it (the runtime abandon()s a stuck plugin instead of destroying it).
    if (stuck()) static_cast<void>(library_.release());
}

bool PluginContext::accepting() const {
    return phase_ == Phase::starting || phase_ == Phase::running;
}

ComponentStatus PluginContext::status() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return status_;
}

void PluginContext::set_status(ComponentState state, std::string error, bool unless_reported) {
    ComponentStatus copy;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (unless_reported && status_.state != ComponentState::starting) return;
        status_.state = state;
        status_.error = std::move(error);
        status_.dropped_messages = dropped_reported_ = dropped_;
        status_.duplicates_dropped = duplicates_reported_ = duplicates_;
        copy = status_;
    }
    host_.status_changed(component_id_, copy);
}

void PluginContext::forget_registrations() {
    worker_.cancel_all_timers();
    std::map<std::uint64_t, Subscription> forgotten;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        forgotten.swap(subscriptions_);
        commands_.clear();
    }
    for (const auto& [id, sub] : forgotten) host_.unsubscribe(component_id_, id, sub.filter);
}

Status PluginContext::start() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (phase_ != Phase::created) return Error{Errc::invalid, "already started"};
        phase_ = Phase::starting;
    }
    set_status(ComponentState::starting, "");
    // Shared with the task, which may finish after we gave up on it. Both sides decide under
    // mutex_ who is late: the task publishes its result (done), or we abandon it (abandoned).
    struct Outcome {
        Status result = done();
        bool finished = false;
        bool abandoned = false;
    };
    auto outcome = std::make_shared<Outcome>();
    worker_.run_and_wait(
        [this, outcome] {
            Status result = done();
            PluginCall call;
            const lucid_host_api* api = site_.api ? site_.api : &api_table();
            auto* host = reinterpret_cast<lucid_host*>(this);
            lucid_status status = call_plugin_in_process(
                call, [&] { return descriptor_.create(api, host, &instance_, call.handle()); });
            if (status != LUCID_OK) {
                result = Error{Errc::plugin, call.failure("create", status)};
                instance_ = nullptr;
                forget_registrations();
            } else if (status = call_plugin_in_process(
                           call, [&] { return descriptor_.start(instance_, call.handle()); });
                       status != LUCID_OK) {
                result = Error{Errc::plugin, call.failure("start", status)};
                // A failed start is not stopped, only destroyed (lucid/plugin.h).
                forget_registrations();
                descriptor_.destroy(std::exchange(instance_, nullptr));
            }
            {
                std::lock_guard<std::mutex> lock(mutex_);
                if (!outcome->abandoned) {
                    // Running from here on, not only once start() resumes: a timer or plugin
                    // thread may report its status before that.
                    if (result) phase_ = Phase::running;
                    outcome->result = std::move(result);
                    outcome->finished = true;
                    return;
                }
            }
            // Started after start() gave up: nobody will ever stop this instance but us.
            if (result) {
                PluginCall late;
                call_plugin_in_process(late,
                                       [&] { return descriptor_.stop(instance_, late.handle()); });
                forget_registrations();
                descriptor_.destroy(std::exchange(instance_, nullptr));  // last, as in stop()
            }
        },
        call_timeout_, "start");
    Status result = done();
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (outcome->finished) {  // also when it finished just after run_and_wait gave up
            result = outcome->result;
        } else {
            outcome->abandoned = true;
            stuck_ = true;
            result = Error{Errc::stuck, "start did not return within " +
                                            std::to_string(call_timeout_.count()) + " ms"};
        }
        // Before the registrations are forgotten: a stuck start registers nothing more.
        phase_ = result ? Phase::running : Phase::stopped;
    }
    if (result) {
        // A status the plugin reported while starting or since (a failure found at once) stands.
        set_status(ComponentState::running, "", /*unless_reported=*/true);
        return result;
    }
    log_->error("{}", result.error().message);
    if (result.error().code == Errc::stuck) {
        // The plugin keeps the worker thread, but nothing queued, no timer and no broker
        // subscription of it may outlive the failed start.
        worker_.close();
        worker_.detach();  // kept for ever (abandon()), never joined
        forget_registrations();
    } else {
        worker_.shutdown(call_timeout_);
    }
    set_status(ComponentState::failed, result.error().message);
    return result;
}

Status PluginContext::stop() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (phase_ != Phase::running) return done();  // never started, failed, or stopped
        phase_ = Phase::stopping;  // no new deliveries, timers or subscriptions from here on
    }
    // Forgotten before stop() so that nothing new is queued. What is queued is not run: the
    // stop goes first (a backlog of slow commands must not make it time out), and the commands
    // among them are answered now (PluginHostServices::not_run_error), not left behind a stop
    // that may never return.
    forget_registrations();
    worker_.drop_offered();
    // A plugin already reported unresponsive gets one more threshold, not the full call
    // timeout: its stop is queued behind the callback that hangs.
    std::chrono::milliseconds wait = call_timeout_;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (stall_) wait = std::min(wait, stall_->threshold);
    }
    auto outcome = std::make_shared<std::string>();  // the plugin's stop error
    bool finished = worker_.run_and_wait(
        [this, outcome] {
            PluginCall call;
            lucid_status status = call_plugin_in_process(
                call, [&] { return descriptor_.stop(instance_, call.handle()); });
            if (status != LUCID_OK) *outcome = call.failure("stop", status);
            forget_registrations();  // whatever stop() itself registered
            worker_.close();         // on the worker: nothing queued behind the stop runs any more
            // Last: once the plugin is destroyed, a context left behind may be freed (its owner
            // waits for exactly that), so nothing of it is touched after.
            descriptor_.destroy(std::exchange(instance_, nullptr));
        },
        wait, "stop", PluginWorker::Place::front);
    Status result = done();
    if (!finished) {
        result = Error{Errc::stuck, stop_timeout_error(wait)};
        // This context is kept for ever (never joined): the thread ends on its own once the
        // callback returns and the queued stop ran.
        worker_.detach();
    } else if (!worker_.shutdown(call_timeout_)) {
        result = Error{Errc::stuck,
                       outcome->empty() ? "plugin is stuck in a call; kept loaded" : *outcome};
    } else if (!outcome->empty()) {
        result = Error{Errc::plugin, *outcome};
    }
    const bool stuck = !result && result.error().code == Errc::stuck;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        phase_ = Phase::stopped;
        stuck_ = stuck_ || stuck;
    }
    const std::string error = result ? "" : result.error().message;
    if (!error.empty()) log_->error("{}", error);
    set_status(stuck ? ComponentState::failed : ComponentState::stopped, error);
    return result;
}

bool PluginContext::stuck() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return stuck_;
}

bool PluginContext::deliver_message(const std::string& topic, const std::string& payload, int qos,
                                    bool retain) {
    return offer_message(
        [&] {
            std::vector<std::uint64_t> matches;
            for (const auto& [id, sub] : subscriptions_) {
                if (mqtt::topic_matches(sub.filter, topic)) matches.push_back(id);
            }
            return matches;
        },
        topic, payload, qos, retain);
}

bool PluginContext::deliver_to(std::uint64_t subscription, const std::string& topic,
                               const std::string& payload, int qos, bool retain) {
    return offer_message(
        [&] {
            return subscriptions_.count(subscription) ? std::vector<std::uint64_t>{subscription}
                                                      : std::vector<std::uint64_t>{};
        },
        topic, payload, qos, retain);
}

bool PluginContext::offer_message(const std::function<std::vector<std::uint64_t>()>& select,
                                  const std::string& topic, const std::string& payload, int qos,
                                  bool retain) {
    std::vector<std::uint64_t> matches;
    bool deduplicating = false;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (!accepting()) return false;
        matches = select();
        // Unresponsive: nothing is queued behind the hung callback, where it would pile up.
        if (stall_) {
            stall_->dropped += matches.size();
            dropped_ += matches.size();
            return !matches.empty();
        }
        for (std::uint64_t id : matches) deduplicating |= subscriptions_[id].dedup != nullptr;
    }
    // Subscriptions that asked for de-duplication (LUCID_SUBSCRIBE_DEDUP) skip an envelope id
    // they were handed within the TTL. The payload is parsed outside the lock, once.
    std::vector<std::uint64_t> fresh = matches;
    std::optional<std::string> envelope;
    std::map<std::uint64_t, std::shared_ptr<DuplicateFilter>> remembered;
    if (deduplicating && (envelope = envelope_id(payload))) {
        const auto now = DuplicateFilter::Clock::now();
        fresh.clear();
        std::lock_guard<std::mutex> lock(mutex_);
        for (std::uint64_t id : matches) {
            auto it = subscriptions_.find(id);
            if (it == subscriptions_.end()) continue;  // unsubscribed meanwhile
            const auto& filter = it->second.dedup;
            if (filter && !filter->admit(*envelope, now)) {
                ++duplicates_;
                continue;
            }
            if (filter) remembered[id] = filter;
            fresh.push_back(id);
        }
    }
    // What a queued task weighs: its copies of the topic and the payload.
    const std::size_t bytes = topic.size() + payload.size();
    for (std::uint64_t id : fresh) {
        const auto offered = worker_.offer(
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
                lucid_status status =
                    call_plugin_in_process(call, [&] { return sub.fn(sub.user, &message); });
                if (status != LUCID_OK) {
                    log_->warn("message handler for {} returned lucid_status {} {}{}{}", topic,
                               status, PluginCall::status_name(status),
                               call.error.empty() ? "" : ": ", call.error);
                }
            },
            id, "message on " + topic, bytes);
        if (offered != PluginWorker::Offer::queued && remembered.count(id)) {
            // Not handed over: a redelivered copy must still get through.
            std::lock_guard<std::mutex> lock(mutex_);
            remembered[id]->forget(*envelope);
        }
        if (offered == PluginWorker::Offer::full) {
            drop_message(topic);
        } else if (offered == PluginWorker::Offer::queued) {
            std::lock_guard<std::mutex> lock(mutex_);
            dropping_ = false;
        }
    }
    return !matches.empty();
}

bool PluginContext::take_command(const std::string& action, const std::string& payload) {
    const std::string topic = prefix_ + "cmd/" + action;
    std::uint64_t tag = 0;  // of the action's handler; 0 when it has none (yet)
    bool hung = false;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (!accepting()) return false;
        hung = stall_.has_value();
        if (auto it = commands_.find(action); it != commands_.end()) {
            tag = it->second.tag;
        } else {
            // A command topic the plugin subscribed to as messages, without a handler, is its
            // own (deliver_message() hands it over): no command, no answer.
            for (const auto& [id, sub] : subscriptions_) {
                if (mqtt::topic_matches(sub.filter, topic)) return true;
            }
        }
    }
    if (hung) {
        // Nothing is queued behind the hung callback; a request_id answered before still gets
        // its answer (admitted here, off the worker, only while the plugin hangs).
        if (host_.admit_command(component_id_, action, payload)) {
            host_.refuse_command(component_id_, action, payload,
                                 unresponsive_refusal(component_id_));
        }
        return true;
    }
    // Queued even without a handler: a plugin still starting registers it before the task
    // runs (start is ahead in the queue); otherwise it answers "unknown command".
    const auto offered =
        worker_.offer([this, action, payload] { run_command(action, payload); }, tag,
                      "command '" + action + "'", topic.size() + payload.size(),
                      [this, action, payload] {
                          host_.refuse_command(component_id_, action, payload,
                                               host_.not_run_error(component_id_));
                      });
    if (offered == PluginWorker::Offer::full) {
        host_.refuse_command(component_id_, action, payload,
                             "busy: component queue full: " + component_id_);
    } else if (offered == PluginWorker::Offer::closed) {
        // Not host_.not_run_error(): the caller may hold the lock that one takes.
        host_.refuse_command(component_id_, action, payload,
                             "component not running: " + component_id_);
    }
    return true;
}

void PluginContext::drop_message(const std::string& topic) {
    bool first = false;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        ++dropped_;
        first = !dropping_;
        dropping_ = true;
    }
    // Once per run of drops: the count is in the component's status (check_responsive()).
    if (first) {
        log_->warn("queue of {} full: dropping messages (first on {})", component_id_, topic);
    }
}

// On the worker: the agent admits the request (or answers it itself), the plugin's handler runs,
// the agent records and publishes the answer on components/{cid}/evt/{action}_result.
void PluginContext::run_command(const std::string& action, const std::string& payload) {
    const auto request = host_.admit_command(component_id_, action, payload);
    if (!request) return;
    contract::Result result(request->request_id, host_.now());
    CommandHandler handler{0, nullptr, nullptr};
    {
        std::lock_guard<std::mutex> lock(mutex_);
        auto it = commands_.find(action);
        if (it != commands_.end()) handler = it->second;
    }
    if (!handler.fn) {
        result.fail("unknown command: " + action);
    } else {
        lucid_command command{sizeof(lucid_command), 0, action.c_str(), request->request_id.c_str(),
                              payload.c_str()};
        PluginCall call;
        lucid_status status = call_plugin_in_process(
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
    if (!host_.connected()) {
        log_->warn(
            "command '{}' returned after the component was left behind; its result is "
            "not published",
            action);
        return;
    }
    host_.answer_command(component_id_, action, *request, std::move(result));
}

void PluginContext::leave_host() { host_.cut(); }

}  // namespace lucid::host
