#include "agent/component_host.hpp"

#include "agent/log_commands.hpp"

#include "common/logging.hpp"
#include "common/world_writable_guard.hpp"
#include "components/component_commands.hpp"
#include "lucid/registry/registry_store.hpp"

namespace lucid::host::agent {

using components::ComponentManager;
using components::ManagerSettings;
namespace {

ManagerSettings settings_from(const config::AgentConfig& config,
                              std::shared_ptr<std::atomic<bool>> downloads_cancelled,
                              std::shared_ptr<install::LiveInstallPolicy> policy,
                              decltype(ManagerSettings::metrics) metrics,
                              components::MqttStatusSink::AgentSide agent_side) {
    ManagerSettings s;
    s.data_dir = config.data_dir;
    s.legacy_registries = registry::legacy_registry_candidates(
        config.data_dir, config.legacy_registry.empty()
                             ? std::nullopt
                             : std::optional<std::string>(config.legacy_registry.string()));
    s.plugin_stall = config.plugin_stall;
    s.health_window = config.upgrade_health;
    s.start_deaths_before_quarantine = config.start_deaths_before_quarantine;
    s.default_isolation = parse_isolation(config.default_isolation).value_or(Isolation::in_process);
    s.process.crashes_before_quarantine = config.isolated_crashes_before_quarantine;
    s.process.run_as_allowed = config.run_as_allowed;
    s.process.runner = config.plugin_runner;
    s.plugin_queue = {static_cast<std::size_t>(config.plugin_queue_max),
                      static_cast<std::size_t>(config.plugin_queue_bytes)};
    s.install.github_base = config.github_base_url;
    s.install.allowed_url_prefixes = config.allowed_source_prefixes;
    s.install.inline_max_bytes = config.max_artifact_bytes;
    s.install.artifacts_prefix = contract::artifacts_prefix(config.fleet_root);
    s.verifier.limits.max_bytes = config.max_artifact_bytes;
    s.verifier.limits.total_timeout_s = config.download_timeout_s;
    s.verifier.limits.low_speed_time_s = config.download_stall_s;
    s.verifier.limits.allowed_prefixes = config.allowed_source_prefixes;
    s.verifier.limits.cancelled = std::move(downloads_cancelled);
    s.policy = std::move(policy);
    s.metrics = std::move(metrics);
    s.agent_side = std::move(agent_side);
    return s.with_current_policy();
}

}  // namespace

install::InstallPolicy install_policy_from(const config::AgentConfig& config,
                                           std::shared_ptr<const install::TrustedKeySet> keys) {
    install::InstallPolicy p;
    p.keys = keys ? std::move(keys) : std::make_shared<install::TrustedKeySet>();
    p.require_signature = config.signature_policy == config::SignaturePolicy::required;
    p.accept_bare_signatures = config.accept_bare_signatures;
    p.allowed_prefixes = config.allowed_source_prefixes;
    return p;
}

ComponentHost::ComponentHost(agent::Agent& agent,
                             std::shared_ptr<const install::TrustedKeySet> keys)
    : agent_(agent),
      policy_(std::make_shared<install::LiveInstallPolicy>(
          install_policy_from(agent.config(), std::move(keys)))) {
    settings_ = settings_from(
        agent.config(), downloads_cancelled_, policy_,
        [&metrics = agent.component_metrics()](const std::string& cid, const std::string& metric,
                                               double value, const std::string& unit) {
            return metrics.offer(cid, metric, value, unit);
        },
        {[&levels = agent.component_log_levels()](const std::string& cid) {
             return levels.name_of(cid);
         },
         [&levels = agent.component_log_levels()](const std::string& cid) {
             std::string problem;
             levels.forget(cid, &problem);
             if (!problem.empty()) logger("components")->warn("{}", problem);
         }});
    manager_ = std::make_unique<ComponentManager>(
        settings_,
        ComponentManager::Mqtt{agent.session(), agent.router(), agent.topics(), agent.dispatcher()},
        [this] {
            // Before the first connect there is nobody to tell: the connect publishes them all.
            if (!agent_.session().connected()) return;
            agent_.snapshots().publish_component_change();
        });
    agent.snapshots().set_component_source([this] { return manager_->snapshots(); });
    agent.snapshots().add_degraded_source([this] { return manager_->degraded_reasons(); });
    agent.snapshots().add_extra_snapshots(
        [this] { return manager_->publish_component_snapshots(); });
    desired_target_ = std::make_unique<fleet::ManagerTarget>(*manager_);
    desired_ = std::make_unique<fleet::DesiredState>(
        fleet::DesiredStateSettings{agent.config().data_dir / "deployment.json",
                                    LUCID_BUILD_PLATFORM},
        *desired_target_, [this](const std::string& payload) {
            agent_.session().publish(agent_.topics().at(contract::topics::kCoreDeployment), payload,
                                     1, true);
        });
    if (!desired_->load_problem().empty()) logger("desired")->warn("{}", desired_->load_problem());
    agent.snapshots().add_extra_snapshots([this] {
        const std::string topic = agent_.topics().at(contract::topics::kCoreDeployment);
        agent_.session().publish(topic, desired_->payload(), 1, true);
        return std::vector<std::string>{"deployment"};
    });
}

void ComponentHost::watch_desired_state() {
    // After the boot: a document is applied over the components the registry holds.
    const std::string topic = agent_.topics().at(contract::topics::kDesired);
    agent_.router().add(topic, [this, topic](const mqtt::MqttMessage& m) {
        if (m.topic != topic) return;
        desired_->offer(m.payload);
        // A full lane has an apply_offered() pending, which takes this document.
        desired_lane_.post([this] { desired_->apply_offered(); });
    });
    agent_.session().subscribe(topic, 1);
}

ComponentHost::~ComponentHost() { stop(); }

void ComponentHost::start() {
    auto log = logger("components");
    for (const auto& problem : manager_->boot()) log->warn("{}", problem);
    components::register_component_commands(agent_.dispatcher(), agent_.router(), agent_.session(),
                                            agent_.topics(), *manager_);
    register_component_log_level(
        agent_.dispatcher(), agent_.router(), agent_.session(), agent_.topics(),
        agent_.component_log_levels(),
        {[this](const std::string& cid) {
             for (const auto& c : manager_->snapshots()) {
                 if (c.entry.component_id == cid) return true;
             }
             return false;
         },
         [this](const std::string& cid) { manager_->republish_status(cid); }});
    watch_desired_state();

    watch_dropin_directory();
}

void ComponentHost::watch_dropin_directory() {
    const auto& directory = agent_.config().plugin_dir;
    if (!agent_.config().dropin_enabled) {
        logger("dropin")->info("drop-in directory off (LUCID_DROPIN=off): {} is not read",
                               directory.string());
        return;
    }
    dropin::DropinCallbacks callbacks;
    callbacks.file_ready = [this](const std::filesystem::path& file) {
        if (!dropin_lane_.post([this, file] { manager_->dropin_ready(file); })) {
            logger("dropin")->error("drop-in queue full; {} will be picked up at next start",
                                    file.string());
        }
    };
    callbacks.file_removed = [this](const std::filesystem::path& file) {
        dropin_lane_.post([this, file] { manager_->dropin_removed(file); });
    };
    callbacks.file_rejected = [this](const std::filesystem::path& file, const std::string& reason) {
        dropin_lane_.post([this, file, reason] { manager_->dropin_rejected(file, reason); });
    };
    callbacks.watch_error = [this](const std::string& message) { dropin_unwatched(message); };
    try {
        watcher_ = std::make_unique<dropin::DropinWatcher>(directory, callbacks);
        // An install channel: a directory every user may write to is anyone's install.
        guard_against_world_writable(directory, "dropin");
        watcher_->initial_scan();
        // After every file the scan reported (the lane runs in order).
        dropin_lane_.post([this] { manager_->dropin_scan_done(); });
    } catch (const std::exception& e) {
        dropin_unwatched(e.what());
    }
}

void ComponentHost::dropin_unwatched(const std::string& why) {
    // An install channel that silently stopped listening looks like a healthy agent ignoring
    // files: the reason goes into core/state (degraded), where a fleet view shows it.
    const std::string reason =
        "drop-in directory not watched: " + agent_.config().plugin_dir.string() + ": " + why;
    logger("dropin")->error("{}", reason);
    agent_.snapshots().add_degraded_reason(reason);
    agent_.snapshots().publish_core_state();
}

void ComponentHost::stop() {
    if (watcher_) watcher_->stop();
    dropin_lane_.stop();
    desired_lane_.stop();
    if (manager_) manager_->stop_all();
}

}  // namespace lucid::host::agent
