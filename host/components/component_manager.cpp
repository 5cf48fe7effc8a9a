// Wiring, boot, runtime control, snapshots and the PluginHostServices side of ComponentManager.
// Install, uninstall and drop-in files are in component_install.cpp.
#include "components/component_manager.hpp"

#include "common/atomic_file.hpp"
#include "common/bounded_parallel.hpp"
#include "common/logging.hpp"
#include "components/audit_log.hpp"
#include "contract/component_id_field.hpp"
#include "install/broker_fetch.hpp"
#include "lucid/registry/identifiers.hpp"

namespace lucid::host::components {
namespace fs = std::filesystem;

ComponentManager::ComponentManager(ManagerSettings settings, Mqtt mqtt, ChangedFn changed)
    : settings_(std::move(settings)),
      mqtt_(std::move(mqtt)),
      store_(settings_.data_dir, settings_.legacy_registries),
      sink_(mqtt_.session, mqtt_.topics, std::move(changed), settings_.agent_side),
      lifecycle_({settings_.health_window, settings_.start_deaths_before_quarantine,
                  settings_.default_isolation, settings_.process.run_as_allowed, settings_.data_dir,
                  core_count()},
                 store_, runtime_, sink_),
      in_process_(*this, {settings_.plugin_call_timeout, settings_.plugin_queue},
                  settings_.plugin_stall),
      process_(*this, process_settings(settings_)),
      runtime_(in_process_, process_),
      dropin_log_(settings_.data_dir / "dropin_log.json") {
    if (!dropin_log_.load_problem().empty()) {
        logger("dropin")->warn("{}", dropin_log_.load_problem());
    }
    // The broker sends the retained snapshots of our components at every (re)subscribe: the way
    // to find those of components this agent no longer has (clear_if_stale()). Plugins'
    // messages take routes of their own, one per subscription (subscribe()).
    for (const std::string& snapshots :
         {mqtt_.topics.component_status("+"), mqtt_.topics.component_cfg_state("+")}) {
        mqtt_.router.add(snapshots, [this](const mqtt::MqttMessage& m) { clear_if_stale(m); });
        mqtt_.session.subscribe(snapshots, 1);
    }
    // Every plugin command, whatever runs: one subscription the agent never ends, so that the
    // persistent session keeps commands sent while the agent is stopped (a plugin's own
    // subscription would end at its stop), and so that a command to a component that is
    // stopped or absent gets an answer (on_plugin_command()).
    const std::string commands = mqtt_.topics.component_commands_filter();
    mqtt_.router.add(commands, [this](const mqtt::MqttMessage& m) { on_plugin_command(m); });
    mqtt_.session.subscribe(commands, 1);
    process_.on_quarantine([this](const std::string& cid, const std::string& error) {
        lifecycle_.quarantine(cid, error);
    });
}

ComponentManager::~ComponentManager() {
    if (settings_.policy && policy_listener_) settings_.policy->forget(policy_listener_);
    stop_all();
}

isolation::ProcessRuntimeSettings ComponentManager::process_settings(const ManagerSettings& s) {
    isolation::ProcessRuntimeSettings p = s.process;
    if (p.runner.empty()) p.runner = isolation::runner_path();
    if (p.component_dirs.empty()) p.component_dirs = s.data_dir / "isolated";
    p.plugin = {s.plugin_call_timeout, s.plugin_queue};
    p.stall_after = s.plugin_stall;
    return p;
}

std::vector<std::string> ComponentManager::boot() {
    // Before anything starts: a component signed by a revoked key may be kept from running.
    refresh_revocations(false);
    if (settings_.policy) {
        policy_listener_ = settings_.policy->on_replace([this] { refresh_revocations(true); });
    }
    auto problems = lifecycle_.boot([this](const InterruptedInstall& i) { answer_interrupted(i); });
    // Earlier builds subscribed each plugin's `components/{cid}/cmd/+`, which the broker keeps
    // in the persistent session: beside `components/+/cmd/+` it would deliver commands twice.
    const registry::Registry registry = lifecycle_.registry();
    for (const auto& [id, entry] : registry.entries()) {
        mqtt_.session.unsubscribe_previous(mqtt_.topics.component_command(id, "+"));
    }
    // A broker fetch the last process did not finish left its subscription on the broker.
    for (auto& problem : install::end_unfinished_broker_fetch(mqtt_.session, settings_.data_dir)) {
        problems.push_back(std::move(problem));
    }
    return problems;
}

void ComponentManager::stop_all() { lifecycle_.stop_all(); }

void ComponentManager::echo_component_id(const contract::ComponentIdField& field,
                                         contract::Result& result) {
    if (field.echo) {
        result.set("component_id", *field.echo);
    } else {
        result.set("component_id", rapidjson::Value());
    }
}

std::optional<std::string> ComponentManager::read_component_id(const rapidjson::Value& payload,
                                                               contract::Result& result) {
    auto cid = contract::read_component_id(payload);
    echo_component_id(cid, result);
    if (!cid.ok()) {
        result.fail(cid.error);
        return std::nullopt;
    }
    return std::move(cid.id);
}

contract::Result ComponentManager::control(const std::string& action,
                                           const contract::CommandRequest& request) {
    const auto cid = contract::read_component_id(request.payload);
    const std::string version = cid.ok() ? lifecycle_.installed_version(cid.id) : "";
    contract::Result result = control_request(action, request);
    audit({action, cid.echo.value_or(""), request.request_id, "", version, version}, result);
    return result;
}

contract::Result ComponentManager::control_request(const std::string& action,
                                                   const contract::CommandRequest& request) {
    contract::Result result(request.request_id, now());
    const auto cid = read_component_id(request.payload, result);
    if (!cid) return result;

    const bool enabling = action == "enable" || action == "disable";
    Outcome outcome;
    if (enabling) {
        outcome = lifecycle_.set_enabled(*cid, action == "enable");
    } else if (action == "stop") {
        outcome = lifecycle_.stop(*cid);
    } else if (action == "restart") {
        outcome = lifecycle_.restart(*cid);
    } else {
        outcome = lifecycle_.start(*cid);
    }
    const bool found = outcome.ok() || outcome.error->code != Errc::not_found;
    // A stop that happened is told even when the start of a restart then failed.
    if (found && !enabling && action != "start") {
        result.set("restart_required", outcome.restart_required);
    }
    if (!outcome.ok()) return std::move(result.fail(outcome.error->message));
    if (enabling) return std::move(result.set("enabled", action == "enable"));
    if (outcome.noop) result.set("noop", true);
    return result;
}

contract::Result ComponentManager::configure(const std::string& component_id,
                                             const contract::CommandRequest& request) {
    const std::string version = lifecycle_.installed_version(component_id);
    contract::Result result = configure_request(component_id, request);
    audit({"config", component_id, request.request_id, "", version, version}, result);
    return result;
}

contract::Result ComponentManager::configure_request(const std::string& component_id,
                                                     const contract::CommandRequest& request) {
    contract::Result result(request.request_id, now());
    result.set("component_id", component_id);  // named by the topic: echoed like the others
    auto set = request.payload.FindMember("set");
    if (set == request.payload.MemberEnd()) {
        return std::move(result.fail("missing 'set' field in payload"));
    }
    if (!set->value.IsObject()) return std::move(result.fail("'set' must be an object"));
    const Outcome outcome = lifecycle_.configure(component_id, set->value);
    if (!outcome.ok()) return std::move(result.fail(outcome.error->message));
    return std::move(result.set("applied", set->value));
}

std::vector<std::string> ComponentManager::publish_component_snapshots() {
    std::vector<std::string> published;
    lifecycle_.publish_views_in_order([&](const std::vector<ComponentView>& views) {
        // One timestamp for the pass, and every payload built before the first is published:
        // the network thread then finds them queued back to back (with 1,000 components, 2,000
        // messages) instead of waking between two payloads being built.
        const auto at = std::chrono::system_clock::now();
        struct Built {
            MqttStatusSink::Message message;
            std::string name;
        };
        std::vector<Built> built;
        built.reserve(views.size() * 2);
        for (const auto& view : views) {
            const std::string name = "components/" + view.component_id;
            built.push_back(
                {sink_.status_message(view.component_id, view.status, at), name + "/status"});
            if (view.config_json) {
                built.push_back({sink_.config_message(view.component_id, *view.config_json, at),
                                 name + "/cfg"});
            }
        }
        for (const auto& b : built) {
            if (mqtt_.session.publish(b.message.topic, b.message.payload, 1, true)) {
                published.push_back(b.name);
            }
        }
    });
    return published;
}

void ComponentManager::republish_status(const std::string& component_id) {
    lifecycle_.publish_views_in_order([&](const std::vector<ComponentView>& views) {
        for (const auto& view : views) {
            if (view.component_id == component_id) sink_.publish_status(component_id, view.status);
        }
    });
}

// ---- the network thread ------------------------------------------------------------------------

void ComponentManager::clear_if_stale(const mqtt::MqttMessage& message) {
    if (!message.retain || message.payload.empty()) return;
    const auto topic = contract::parse_component_topic(mqtt_.topics.base(), message.topic);
    if (!topic || (topic->suffix != "status" && topic->suffix != "cfg/state")) return;
    const std::string& cid = topic->component_id;
    const std::string& snapshot = topic->suffix;
    // Under the lifecycle's state lock: a status set meanwhile by an install of that very
    // component is then published after the clear, never wiped by it.
    lifecycle_.if_unknown(cid, [&] {
        logger("components")
            ->info("clearing the retained {} of {}, which is not installed", snapshot, cid);
        mqtt_.session.publish(message.topic, "", 1, true);
    });
}

void ComponentManager::on_plugin_command(const mqtt::MqttMessage& message) {
    const auto topic = contract::parse_component_topic(mqtt_.topics.base(), message.topic);
    const auto action = topic ? contract::component_command_action(*topic) : std::nullopt;
    if (!action || !registry::is_valid_identifier(topic->component_id)) return;  // not ours
    const std::string& cid = topic->component_id;
    if (message.retain) {
        // The broker would replay it on every reconnect, as for the agent's own commands.
        logger("commands")->warn("ignoring a retained command on {}", message.topic);
        return;
    }
    if (runtime_.take_command(cid, *action, message.payload)) return;
    refuse_command(cid, *action, message.payload, not_run_error(cid));
}

// ---- PluginHostServices (plugin worker threads) ----------------------------------------------

commands::CommandSpec ComponentManager::plugin_command_spec(const std::string& component_id,
                                                            const std::string& action) const {
    commands::CommandSpec spec;
    spec.name = component_id + " command " + action;
    spec.command_topic = mqtt_.topics.component_command(component_id, action);
    spec.result_topic = mqtt_.topics.component_command_result(component_id, action);
    return spec;
}

std::optional<contract::CommandRequest> ComponentManager::admit_command(
    const std::string& component_id, const std::string& action, const std::string& payload) {
    return mqtt_.commands.admit(plugin_command_spec(component_id, action), payload);
}

void ComponentManager::answer_command(const std::string& component_id, const std::string& action,
                                      const contract::CommandRequest& request,
                                      contract::Result result) {
    // On disk before the answer leaves: a plugin command may have side effects, and a retry
    // after a SIGKILL must get this answer, not run it again.
    mqtt_.commands.finish(plugin_command_spec(component_id, action), request.request_id,
                          commands::CommandReply(std::move(result)));
}

void ComponentManager::refuse_command(const std::string& component_id, const std::string& action,
                                      const std::string& payload, const std::string& error) {
    mqtt_.commands.refuse(plugin_command_spec(component_id, action), payload,
                          contract::refusal_error(payload, error));
}

bool ComponentManager::publish(const std::string& topic, const std::string& payload, int qos,
                               bool retain) {
    const auto outcome = mqtt_.session.publish(topic, payload, qos, retain);
    // Not connected (plugins start at boot before the first connection, or the broker is away)
    // but queued for the next connection: for the plugin that publish succeeded; failing it
    // would fail start().
    return outcome || outcome.error().code == Errc::deferred;
}

bool ComponentManager::publish_metric(const std::string& component_id, const std::string& metric,
                                      double value, const std::string& unit) {
    return !settings_.metrics || settings_.metrics(component_id, metric, value, unit);
}

void ComponentManager::subscribe(const std::string& component_id, std::uint64_t subscription,
                                 const std::string& filter, int qos) {
    const auto route =
        mqtt_.router.add(filter, [this, component_id, subscription](const mqtt::MqttMessage& m) {
            runtime_.deliver(component_id, subscription, m.topic, m.payload, m.qos, m.retain);
        });
    {
        std::lock_guard<std::mutex> lock(routes_mutex_);
        routes_[{component_id, subscription}] = {route, filter};
    }
    // The session counts the filters several subscriptions share (mqtt/subscription_set.hpp).
    mqtt_.session.subscribe(filter, qos);
}

void ComponentManager::unsubscribe(const std::string& component_id, std::uint64_t subscription,
                                   const std::string& filter) {
    (void)filter;  // the one recorded at subscribe(): a plugin cannot end another's
    std::vector<Route> ended;
    {
        std::lock_guard<std::mutex> lock(routes_mutex_);
        auto it = routes_.find({component_id, subscription});
        if (it == routes_.end()) return;
        ended.push_back(it->second);
        routes_.erase(it);
    }
    end_routes(ended);
}

void ComponentManager::unsubscribe_all(const std::string& component_id) {
    std::vector<Route> ended;
    {
        std::lock_guard<std::mutex> lock(routes_mutex_);
        auto it = routes_.lower_bound({component_id, 0});
        while (it != routes_.end() && it->first.first == component_id) {
            ended.push_back(it->second);
            it = routes_.erase(it);
        }
    }
    if (!ended.empty()) {
        logger("components")
            ->info("{}: ending {} subscription(s) its plugin left", component_id, ended.size());
    }
    end_routes(ended);
}

void ComponentManager::end_routes(const std::vector<Route>& routes) {
    for (const auto& route : routes) {
        mqtt_.router.remove(route.id);
        mqtt_.session.unsubscribe(route.filter);
    }
}

std::chrono::system_clock::time_point ComponentManager::now() {
    return std::chrono::system_clock::now();
}

std::string ComponentManager::agent_id() { return mqtt_.topics.agent_id(); }

std::string ComponentManager::base_topic() { return mqtt_.topics.base(); }

void ComponentManager::status_changed(const std::string& component_id,
                                      const ComponentStatus& status) {
    lifecycle_.report_status(component_id, status);
}

std::string ComponentManager::not_run_error(const std::string& component_id) {
    return lifecycle_.not_run_error(component_id);
}

std::string ComponentManager::read_config(const std::string& component_id) {
    return lifecycle_.config_of(component_id);
}

Status ComponentManager::persist_config(const std::string& component_id, const std::string& json) {
    return lifecycle_.persist_config(component_id, json);
}

}  // namespace lucid::host::components
