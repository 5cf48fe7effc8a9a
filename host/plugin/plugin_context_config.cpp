// PluginContext members about a proposed config (`components/{cid}/cfg/set`): the plugin is
// asked on its worker, what it accepts is stored, and what cannot be stored, or comes too late
// for the one who asked, is undone, so that the answer, the stored config and the config the
// plugin runs with always agree.
#include <spdlog/spdlog.h>

#include <condition_variable>
#include <mutex>

#include <rapidjson/document.h>

#include "plugin/plugin_callback.hpp"
#include "plugin/plugin_context.hpp"
#include "plugin/plugin_stall_watch.hpp"

namespace lucid::host {

// Shared by propose_config() and the task on the worker, which may outlive its wait. Both
// decide under `mutex` who is late: once the task is storing, the answer waits for it; once
// the waiter gave up, the task undoes what the plugin accepted instead of storing it.
struct PluginContext::ConfigChange {
    std::mutex mutex;
    std::condition_variable decided;
    bool given_up = false;  // propose_config() answered "in time" already
    bool storing = false;   // the task is past the point of no return
    bool answered = false;  // `result` is final
    Status result = done();

    void finish(Status final_result) {
        std::lock_guard<std::mutex> lock(mutex);
        result = std::move(final_result);
        answered = true;
        decided.notify_all();
    }
};

Status PluginContext::propose_config(const std::string& config_json) {
    rapidjson::Document doc;
    doc.Parse(config_json.c_str());
    if (doc.HasParseError() || !doc.IsObject()) {
        return Error{Errc::invalid, "config must be a JSON object"};
    }
    bool running = false;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        running = phase_ == Phase::running;
        if (running && stall_) return Error{Errc::refused, unresponsive_refusal(component_id_)};
    }
    if (!running) {
        // Nothing to ask: the plugin sees the config at its next start.
        const Status saved = host_.persist_config(component_id_, config_json);
        if (!saved) return Error{Errc::io, "cannot save config: " + saved.error().message};
        return done();
    }
    auto change = std::make_shared<ConfigChange>();
    worker_.run_and_wait([this, change, config_json] { apply_config(config_json, *change); },
                         call_timeout_, "config change");
    std::unique_lock<std::mutex> lock(change->mutex);
    if (!change->answered && !change->storing) {
        change->given_up = true;
        return Error{Errc::stuck, "plugin did not answer the config change in time"};
    }
    change->decided.wait(lock, [&] { return change->answered; });  // a store in progress
    return change->result;  // a refused config changed nothing
}

void PluginContext::apply_config(const std::string& config_json, ConfigChange& change) {
    {
        // Queued behind a slow callback past the wait: nobody takes this answer any more.
        std::lock_guard<std::mutex> lock(change.mutex);
        if (change.given_up) return;
    }
    const auto offer = [&](const std::string& json, PluginCall& call) {
        return call_plugin_in_process(call, [&] {
            return descriptor_.config_changed(instance_, json.c_str(), call.handle());
        });
    };
    // Gives the plugin back the stored config, so that what runs now is what the next start
    // gets.
    const std::string stored = host_.read_config(component_id_);
    const auto undo = [&](const char* why) {
        PluginCall call;
        if (descriptor_.config_changed && offer(stored, call) != LUCID_OK) {
            log_->warn("config change {}, and the plugin refused the stored config back: {}", why,
                       call.error);
        }
    };
    if (descriptor_.config_changed) {  // older plugins and C plugins may have no hook
        PluginCall call;
        const lucid_status status = offer(config_json, call);
        if (status != LUCID_OK) {
            change.finish(Error{Errc::plugin, call.error.empty()
                                                  ? call.failure("config change", status)
                                                  : call.error});
            return;
        }
    }
    {
        std::lock_guard<std::mutex> lock(change.mutex);
        change.storing = !change.given_up;
    }
    if (!change.storing) {
        log_->warn("config change accepted after its answer timed out; not stored");
        undo("came too late");
        return;
    }
    // Stored before the worker runs anything else, so that the next callback reads it.
    const Status saved = host_.persist_config(component_id_, config_json);
    if (!saved) undo("not saved");  // a full or read-only disk
    change.finish(saved ? done()
                        : Status(Error{Errc::io, "cannot save config: " + saved.error().message}));
}

}  // namespace lucid::host
