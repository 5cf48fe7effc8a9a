// Boot, runtime control, snapshots and the PluginHostServices side of ComponentManager.
// Install, uninstall and drop-in files are in component_install.cpp.
#include "components/component_manager.hpp"

#include <algorithm>

#include "commands/command_dispatcher.hpp"
#include "common/file_modes.hpp"
#include "common/logging.hpp"
#include "components/audit_log.hpp"
#include "contract/component_id_field.hpp"
#include "lucid/registry/identifiers.hpp"

namespace lucid::host::components {
namespace fs = std::filesystem;

namespace {

const char* const kUnsupportedError =
    "a Python wheel of the earlier agent: this host cannot run it (uninstall it, or install a "
    "native build)";

}  // namespace

ComponentManager::ComponentManager(ManagerSettings settings, Mqtt mqtt, ChangedFn changed)
    : settings_(std::move(settings)),
      mqtt_(std::move(mqtt)),
      components_prefix_(mqtt_.topics.base() + "/components/"),
      changed_(std::move(changed)),
      store_(settings_.data_dir, settings_.legacy_registries),
      files_(settings_.data_dir),
      stall_watch_(settings_.plugin_stall) {
    // One route sees every incoming message; each plugin context keeps only what matches its
    // own subscriptions, so overlapping filters never deliver a message twice to a plugin.
    mqtt_.router.add("#", [this](const mqtt::MqttMessage& m) { deliver(m); });
    // The broker sends the retained snapshots of our components at every (re)subscribe: the way
    // to find those of components this agent no longer has (clear_if_stale()).
    for (const char* snapshot : {"+/status", "+/cfg/state"}) {
        mqtt_.session.subscribe(components_prefix_ + snapshot, 1);
    }
    // Every plugin command, whatever runs: one subscription the agent never ends, so that the
    // persistent session keeps commands sent while the agent is stopped (a plugin's own
    // subscription would end at its stop), and so that a command to a component that is
    // stopped or absent gets an answer (on_plugin_command()).
    const std::string commands = mqtt_.topics.component_commands_filter();
    mqtt_.router.add(commands, [this](const mqtt::MqttMessage& m) { on_plugin_command(m); });
    mqtt_.session.subscribe(commands, 1);
}

ComponentManager::~ComponentManager() { stop_all(); }

std::vector<std::string> ComponentManager::boot() {
    std::lock_guard<std::mutex> lifecycle(lifecycle_mutex_);
    auto report = store_.load();
    std::vector<std::string> problems = report.problems;
    auto recovery = files_.recover(report.registry, report.moved_aside.has_value());
    problems.insert(problems.end(), recovery.problems.begin(), recovery.problems.end());
    registry::Registry registry = std::move(recovery.registry);

    // The component that took the agent down, if any, does not get to do it again.
    bool changed = recovery.registry_changed;
    const Blame blame = blame_deaths(registry, changed, problems);
    if (changed) {
        try {
            save_registry(registry);
        } catch (const std::exception& e) {
            // A read-only or full data directory: serve the repaired registry all the same; the
            // repair is made again at the next start.
            problems.push_back(std::string("cannot save the repaired registry: ") + e.what());
        }
    }
    {
        std::lock_guard<std::mutex> lock(state_mutex_);
        registry_ = registry;
    }
    // Earlier builds subscribed each plugin's `components/{cid}/cmd/+`, which the broker keeps
    // in the persistent session: beside `components/+/cmd/+` it would deliver commands twice.
    for (const auto& [id, entry] : registry.entries()) {
        mqtt_.session.unsubscribe_previous(components_prefix_ + id + "/cmd/+");
    }

    finish_blame(blame);

    // The suspects of a death nobody could be blamed for first, one at a time: each runs its
    // start alone under its marker, so that another death counts against it only.
    std::vector<const registry::Entry*> order;
    for (const auto& id : blame.suspects) {
        if (const auto* entry = registry.find(id)) order.push_back(entry);
    }
    for (const auto& [id, entry] : registry.entries()) {
        if (std::find(blame.suspects.begin(), blame.suspects.end(), id) == blame.suspects.end()) {
            order.push_back(&entry);
        }
    }
    for (const registry::Entry* e : order) {
        const registry::Entry& entry = *e;
        const std::string& id = entry.component_id;
        if (entry.kind == registry::EntryKind::python_wheel) {
            set_status(id, {ComponentState::unsupported, entry.version, kUnsupportedError});
        } else if (auto quarantine = quarantine_error(entry)) {
            set_status(id, {ComponentState::quarantined, entry.version, *quarantine});
        } else if (!entry.enabled) {
            set_status(id, {ComponentState::stopped, entry.version, ""});
        } else if (auto error = load_and_start(entry); !error.empty()) {
            problems.push_back("component " + id + " did not start: " + error);
        }
    }
    if (changed_) changed_();
    return problems;
}

void ComponentManager::stop_all() {
    std::lock_guard<std::mutex> lifecycle(lifecycle_mutex_);
    {
        std::lock_guard<std::mutex> lock(state_mutex_);
        stopping_all_ = true;
    }
    while (!loaded_.empty()) {
        const std::string id = loaded_.begin()->first;  // a copy: the entry goes with the unload
        stop_and_unload(id);
    }
}

std::string ComponentManager::load_and_start(const registry::Entry& entry) {
    return start_loaded(
        entry, PluginComponent::load(entry.path, *this,
                                     {settings_.plugin_call_timeout, settings_.plugin_queue}));
}

std::string ComponentManager::start_loaded(const registry::Entry& entry,
                                           PluginComponent::LoadResult loaded) {
    if (!loaded.ok()) {
        set_status(entry.component_id, {ComponentState::failed, entry.version, loaded.error});
        return loaded.error;
    }
    if (loaded.component->manifest().component_id != entry.component_id) {
        const std::string error = "the artifact declares component_id '" +
                                  loaded.component->manifest().component_id + "', not '" +
                                  entry.component_id + "'";
        set_status(entry.component_id, {ComponentState::failed, entry.version, error});
        return error;
    }
    PluginContext& context = loaded.component->context();
    loaded_[entry.component_id] = Loaded{std::move(loaded.component)};
    {
        std::lock_guard<std::mutex> lock(state_mutex_);
        contexts_[entry.component_id] = &context;
        // A new install or an upgrade is not in registry_ until it started: the plugin must
        // still read the config it is being started with.
        starting_configs_[entry.component_id] = entry.config_json;
    }
    stall_watch_.watch(entry.component_id, context);
    mark_starting(entry);
    const auto started = loaded_[entry.component_id].plugin->start();
    clear_starting(entry.component_id);
    {
        std::lock_guard<std::mutex> lock(state_mutex_);
        starting_configs_.erase(entry.component_id);
    }
    if (started.ok) return {};
    stop_and_unload(entry.component_id);
    // Unloading reports `stopped`; what the operator needs to see is why it failed.
    set_status(entry.component_id, {ComponentState::failed, entry.version, started.error});
    return started.error;
}

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

bool ComponentManager::stop_and_unload(const std::string& component_id) {
    auto it = loaded_.find(component_id);
    if (it == loaded_.end()) return false;
    {
        // After this no message reaches the plugin: deliver() holds state_mutex_ while it hands
        // messages to contexts.
        std::lock_guard<std::mutex> lock(state_mutex_);
        contexts_.erase(component_id);
    }
    // Not while holding state_mutex_: a health check in progress may need it to report.
    stall_watch_.unwatch(component_id);
    const auto report = it->second.plugin->stop_and_unload();
    loaded_.erase(it);
    if (!report.ok && !report.error.empty()) {
        logger("components")
            ->warn("component {} stopped with an error: {}", component_id, report.error);
    }
    return report.restart_required;
}

bool ComponentManager::healthy_for(const std::string& component_id,
                                   std::chrono::milliseconds window) {
    // Waits on status changes, not on time alone: a plugin reporting `failed` ends it at once.
    std::unique_lock<std::mutex> lock(state_mutex_);
    const auto failed = [&] {
        auto it = statuses_.find(component_id);
        return it == statuses_.end() || !is_loaded(it->second.state);
    };
    return !status_cv_.wait_for(lock, window, failed);
}

contract::Result ComponentManager::control(const std::string& action,
                                           const contract::CommandRequest& request) {
    const auto cid = contract::read_component_id(request.payload);
    const std::string version = cid.ok() ? installed_version(cid.id) : "";
    contract::Result result = control_request(action, request);
    audit({action, cid.echo.value_or(""), request.request_id, "", version, version}, result);
    return result;
}

std::string ComponentManager::installed_version(const std::string& component_id) const {
    std::lock_guard<std::mutex> lock(state_mutex_);
    const auto* entry = registry_.find(component_id);
    return entry ? entry->version : "";
}

contract::Result ComponentManager::control_request(const std::string& action,
                                                   const contract::CommandRequest& request) {
    contract::Result result(request.request_id, now());
    const auto cid_read = read_component_id(request.payload, result);
    if (!cid_read) return result;
    const std::string& cid = *cid_read;

    std::lock_guard<std::mutex> lifecycle(lifecycle_mutex_);
    registry::Registry registry = registry_copy();
    const registry::Entry* entry = registry.find(cid);
    if (!entry) return std::move(result.fail("component not found: " + cid));

    if (action == "enable" || action == "disable") {
        registry::Entry changed = *entry;
        changed.enabled = action == "enable";
        registry.put(changed);
        try {
            save_registry(registry);
        } catch (const std::exception& e) {
            return std::move(result.fail(std::string("cannot save the registry: ") + e.what()));
        }
        if (action == "enable" && quarantine_error(*entry)) {
            lift_quarantine(cid);
            set_status(cid, {ComponentState::stopped, entry->version, ""});
        }
        if (changed_) changed_();
        return std::move(result.set("enabled", changed.enabled));
    }

    bool restart_required = false;
    if (action == "stop" || action == "restart") {
        const bool was_loaded = loaded_.count(cid) > 0;
        restart_required = stop_and_unload(cid);
        if (was_loaded) set_status(cid, {ComponentState::stopped, entry->version, ""});
        result.set("restart_required", restart_required);
        if (action == "stop") {
            // Like a start of a running component: nothing to do is said, not hidden.
            if (!was_loaded) return std::move(result.set("noop", true));
            if (changed_) changed_();
            return result;
        }
    }
    // start | restart
    if (entry->kind == registry::EntryKind::python_wheel) {
        return std::move(result.fail("component " + cid + " is unsupported: " + kUnsupportedError));
    }
    if (auto quarantine = quarantine_error(*entry)) {
        return std::move(result.fail("component " + cid + " is quarantined (" + *quarantine +
                                     "); enable it to try again"));
    }
    if (loaded_.count(cid)) return std::move(result.set("noop", true));
    const std::string error = load_and_start(*entry);
    if (changed_) changed_();
    if (!error.empty()) return std::move(result.fail(error));
    return result;
}

contract::Result ComponentManager::configure(const std::string& component_id,
                                             const contract::CommandRequest& request) {
    const std::string version = installed_version(component_id);
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

    std::lock_guard<std::mutex> lifecycle(lifecycle_mutex_);
    const registry::Registry registry = registry_copy();
    const registry::Entry* entry = registry.find(component_id);
    if (!entry) return std::move(result.fail("component not found: " + component_id));
    auto loaded = loaded_.find(component_id);
    if (loaded == loaded_.end()) {
        return std::move(result.fail("component not running: " + component_id));
    }
    // The new config is the stored one with the `set` keys replaced: the plugin always sees,
    // validates and persists a whole config.
    rapidjson::Document merged;
    merged.Parse(entry->config_json.c_str());
    if (merged.HasParseError() || !merged.IsObject()) merged.SetObject();
    for (const auto& member : set->value.GetObject()) {
        rapidjson::Value key(member.name, merged.GetAllocator());
        rapidjson::Value value(member.value, merged.GetAllocator());
        merged.RemoveMember(key);
        merged.AddMember(key, value, merged.GetAllocator());
    }
    const auto outcome = loaded->second.plugin->context().propose_config(contract::to_json(merged));
    if (!outcome.ok) return std::move(result.fail(outcome.error));
    return std::move(result.set("applied", set->value));
}

std::vector<contract::ComponentSnapshot> ComponentManager::snapshots() const {
    std::lock_guard<std::mutex> lock(state_mutex_);
    std::vector<contract::ComponentSnapshot> out;
    for (const auto& [id, entry] : registry_.entries()) {
        contract::ComponentSnapshot snapshot{entry, ComponentState::stopped, ""};
        if (auto it = statuses_.find(id); it != statuses_.end()) {
            snapshot.state = it->second.state;
            snapshot.error = it->second.error;
        }
        out.push_back(std::move(snapshot));
    }
    return out;
}

std::vector<std::string> ComponentManager::publish_component_snapshots() {
    std::vector<std::string> ids, unregistered;
    {
        std::lock_guard<std::mutex> lock(state_mutex_);
        for (const auto& [id, entry] : registry_.entries()) ids.push_back(id);
        // A first install that took the agent down is failed without a registry entry; its
        // status, set at boot before any connection, must reach the broker too.
        for (const auto& [id, status] : statuses_) {
            if (!registry_.find(id)) unregistered.push_back(id);
        }
    }
    std::vector<std::string> published;
    for (const auto& id : ids) {
        if (publish_component_status(id)) published.push_back("components/" + id + "/status");
        if (publish_component_config(id)) published.push_back("components/" + id + "/cfg");
    }
    for (const auto& id : unregistered) {
        if (publish_component_status(id)) published.push_back("components/" + id + "/status");
    }
    return published;
}

void ComponentManager::set_status(const std::string& component_id, ComponentStatus status) {
    {
        std::lock_guard<std::mutex> lock(state_mutex_);
        statuses_[component_id] = std::move(status);
    }
    status_cv_.notify_all();
    publish_component_status(component_id);
}

bool ComponentManager::publish_component_status(const std::string& component_id) {
    ComponentStatus status;
    {
        std::lock_guard<std::mutex> lock(state_mutex_);
        auto it = statuses_.find(component_id);
        if (it != statuses_.end()) {
            status = it->second;
        } else if (const auto* entry = registry_.find(component_id)) {
            status = {ComponentState::stopped, entry->version, ""};
        } else {
            return false;
        }
    }
    return mqtt_.session
        .publish(mqtt_.topics.component_status(component_id),
                 contract::component_status_payload(status.state, status.version, status.error,
                                                    status.dropped_messages, now()),
                 1, true)
        .ok;
}

bool ComponentManager::publish_component_config(const std::string& component_id) {
    std::string config;
    {
        std::lock_guard<std::mutex> lock(state_mutex_);
        const auto* entry = registry_.find(component_id);
        if (!entry) return false;
        config = entry->config_json;
    }
    return mqtt_.session
        .publish(mqtt_.topics.component_cfg_state(component_id),
                 contract::component_cfg_state_payload(config, now()), 1, true)
        .ok;
}

void ComponentManager::forget_component(const std::string& component_id) {
    {
        std::lock_guard<std::mutex> lock(state_mutex_);
        statuses_.erase(component_id);
    }
    // An empty retained message deletes the retained snapshot on the broker.
    mqtt_.session.publish(mqtt_.topics.component_status(component_id), "", 1, true);
    mqtt_.session.publish(mqtt_.topics.component_cfg_state(component_id), "", 1, true);
}

registry::Registry ComponentManager::registry_copy() const {
    std::lock_guard<std::mutex> lock(state_mutex_);
    return registry_;
}

void ComponentManager::save_registry(const registry::Registry& registry) {
    store_.save(registry);
    std::lock_guard<std::mutex> lock(state_mutex_);
    registry_ = registry;
}

std::string ComponentManager::not_run_error(const std::string& component_id) {
    std::lock_guard<std::mutex> lock(state_mutex_);
    if (stopping_all_) return commands::CommandDispatcher::kShuttingDown;
    if (registry_.find(component_id) || statuses_.count(component_id)) {
        return "component not running: " + component_id;
    }
    return "component not found: " + component_id;
}

void ComponentManager::clear_if_stale(const mqtt::MqttMessage& message) {
    const std::string& topic = message.topic;
    const std::string& prefix = components_prefix_;
    if (message.payload.empty() || topic.compare(0, prefix.size(), prefix) != 0) return;
    const auto slash = topic.find('/', prefix.size());
    if (slash == std::string::npos) return;
    const std::string cid = topic.substr(prefix.size(), slash - prefix.size());
    const std::string snapshot = topic.substr(slash + 1);
    if (snapshot != "status" && snapshot != "cfg/state") return;
    // Held while publishing: a status set meanwhile by an install of that very component is
    // then published after the clear, never wiped by it.
    std::lock_guard<std::mutex> lock(state_mutex_);
    if (registry_.find(cid) || statuses_.count(cid)) return;
    logger("components")
        ->info("clearing the retained {} of {}, which is not installed", snapshot, cid);
    mqtt_.session.publish(topic, "", 1, true);
}

void ComponentManager::deliver(const mqtt::MqttMessage& message) {
    if (message.retain) clear_if_stale(message);
    std::lock_guard<std::mutex> lock(state_mutex_);
    for (auto& [id, context] : contexts_) {
        context->deliver_message(message.topic, message.payload, message.qos, message.retain);
    }
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
    {
        std::lock_guard<std::mutex> lock(state_mutex_);
        auto it = contexts_.find(cid);
        if (it != contexts_.end() && it->second->take_command(*action, message.payload)) return;
    }
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
    const auto request = contract::parse_command(payload);
    mqtt_.commands.refuse(plugin_command_spec(component_id, action), payload,
                          request.ok() ? error : request.error);
}

bool ComponentManager::publish(const std::string& topic, const std::string& payload, int qos,
                               bool retain) {
    const auto outcome = mqtt_.session.publish(topic, payload, qos, retain);
    // Not connected (plugins start at boot before the first connection, or the broker is away)
    // but queued for the next connection: for the plugin that publish succeeded; failing it
    // would fail start().
    return outcome.ok || outcome.queued;
}

void ComponentManager::subscribe(const std::string& component_id, const std::string& filter,
                                 int qos) {
    {
        std::lock_guard<std::mutex> lock(state_mutex_);
        ++subscriptions_[{component_id, filter}];
    }
    mqtt_.session.subscribe(filter, qos);
}

void ComponentManager::unsubscribe(const std::string& component_id, const std::string& filter) {
    {
        std::lock_guard<std::mutex> lock(state_mutex_);
        auto it = subscriptions_.find({component_id, filter});
        if (it == subscriptions_.end()) return;
        if (--it->second == 0) subscriptions_.erase(it);
    }
    mqtt_.session.unsubscribe(filter);
}

std::chrono::system_clock::time_point ComponentManager::now() {
    return std::chrono::system_clock::now();
}

std::string ComponentManager::agent_id() { return mqtt_.topics.agent_id(); }

std::string ComponentManager::base_topic() { return mqtt_.topics.base(); }

void ComponentManager::status_changed(const std::string& component_id,
                                      const ComponentStatus& status) {
    set_status(component_id, status);
    if (changed_) changed_();
}

std::string ComponentManager::read_config(const std::string& component_id) {
    std::lock_guard<std::mutex> lock(state_mutex_);
    if (auto it = starting_configs_.find(component_id); it != starting_configs_.end()) {
        return it->second;
    }
    const auto* entry = registry_.find(component_id);
    return entry ? entry->config_json : "{}";
}

std::string ComponentManager::persist_config(const std::string& component_id,
                                             const std::string& json) {
    // Runs on the plugin's worker while configure() holds the lifecycle mutex: only the
    // registry file's own lock and state_mutex_ are taken here.
    try {
        registry::Registry saved = store_.update([&](registry::Registry& r) {
            if (const auto* entry = r.find(component_id)) {
                registry::Entry changed = *entry;
                changed.config_json = json;
                r.put(changed);
            }
        });
        std::lock_guard<std::mutex> lock(state_mutex_);
        registry_ = std::move(saved);
    } catch (const std::exception& e) {
        logger("components")->error("cannot persist the config of {}: {}", component_id, e.what());
        return e.what();
    }
    publish_component_config(component_id);
    return {};
}

}  // namespace lucid::host::components
