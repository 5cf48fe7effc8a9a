#include "agent/agent.hpp"

#include <lucid/plugin.h>

#include "agent/log_commands.hpp"
#include "common/file_modes.hpp"
#include "common/log_levels.hpp"
#include "common/log_tap.hpp"
#include "common/logging.hpp"
#include "common/world_writable_guard.hpp"
#include "config/host_facts.hpp"

namespace lucid::host::agent {
namespace {

constexpr auto kOfflineDeliveryTimeout = std::chrono::milliseconds(3000);

std::filesystem::path prepared_data_dir(const std::filesystem::path& dir) {
    // 0750 whatever the umask; throws with the path in the message (SECURITY.md, "Files on disk").
    make_directories(dir);
    guard_against_world_writable(dir, "agent");
    return dir;
}

mqtt::SessionOptions session_options(const config::AgentConfig& c) {
    mqtt::SessionOptions o;
    o.endpoint = c.endpoint;
    o.client_id = "lucid-agent-" + c.agent_id;
    o.keepalive_s = c.keepalive_s;
    o.tls = c.tls;
    o.backoff_min = c.reconnect_min;
    o.backoff_max = c.reconnect_max;
    return o;
}

std::chrono::milliseconds heartbeat_period(const CoreConfig& c) {
    return std::chrono::seconds(c.heartbeat_s);
}

}  // namespace

Agent::Agent(config::AgentConfig config, ShutdownSignal& shutdown)
    : config_(std::move(config)),
      shutdown_(shutdown),
      topics_(config_.topic_root, config_.agent_id),
      data_lock_(prepared_data_dir(config_.data_dir)),
      counter_(config_.data_dir / "session"),
      dedup_(config_.data_dir / "request_log.json", commands::DedupLimits{}),
      runtime_config_(CoreConfigStore(config_.data_dir)),
      restart_record_(config_.data_dir / "last_restart"),
      component_log_levels_(config_.data_dir, LogTap::instance()) {
    session_ = std::make_unique<mqtt::MqttSession>(
        session_options(config_), counter_, router_,
        [this](std::uint64_t session) { return snapshots_->will(session); });
    AgentIdentity identity;
    identity.agent_id = config_.agent_id;
    identity.version = config_.version;
    identity.hostname = config::host_name();
    identity.arch = config::machine_arch();
    identity.plugin_abi =
        std::to_string(LUCID_PLUGIN_ABI_MAJOR) + "." + std::to_string(LUCID_PLUGIN_ABI_MINOR);
    identity.instance = instance_;
    // The components come from the ComponentHost, which replaces this empty source.
    snapshots_ = std::make_unique<SnapshotPublisher>(
        *session_, topics_, std::move(identity), [this] { return session_->connection(); },
        runtime_config_, [] { return std::vector<contract::ComponentSnapshot>{}; });
    snapshots_->set_labels(effective_labels(runtime_config_.get()));
    dispatcher_ =
        std::make_unique<commands::CommandDispatcher>(*session_, dedup_, kCommandQueueCapacity);
    heartbeat_ = std::make_unique<Heartbeat>(
        [this] {
            if (!session_->connected()) return;
            clear_quiet_conflict();
            snapshots_->publish_status();
        },
        heartbeat_period(runtime_config_.get()));
    telemetry_ = std::make_unique<telemetry::TelemetryStream>(
        telemetry::SystemMetrics({"/proc", "/sys", config_.data_dir}), topics_.base(),
        [this](const std::string& suffix, const std::string& payload) {
            // QoS 0 and live only: a sample nobody could receive is not kept for later.
            if (session_->connected()) session_->publish(topics_.at(suffix), payload, 0, false);
        });
    log_stream_ = std::make_unique<LogStream>(LogTap::instance(), [this](const std::string& p) {
        // QoS 0 and live only, as telemetry: a line nobody could receive is counted as dropped.
        if (!session_->connected()) return false;
        session_->publish(topics_.at(contract::topics::kLogs), p, 0, false);
        return true;
    });
    // What the log files never show must not leave the device in a line either.
    std::vector<std::string> secrets;
    if (!config_.endpoint.password.empty()) {
        secrets.push_back(config_.endpoint.password);
        secrets.push_back(mqtt::percent_encode_userinfo(config_.endpoint.password));
    }
    LogTap::instance().set_secrets(std::move(secrets));
    std::string levels_problem;
    component_log_levels_.restore(&levels_problem);
    if (!levels_problem.empty()) logger("agent")->warn("log levels: {}", levels_problem);
    component_metrics_ = std::make_unique<telemetry::ComponentMetrics>(
        topics_.base(), [this](const std::string& suffix, const std::string& payload) {
            // As the agent's own: QoS 0, live only.
            if (!session_->connected()) return true;
            return session_->publish(topics_.at(suffix), payload, 0, false).ok();
        });
    // Now, not in run(): the components start (and may publish) before run().
    component_metrics_->configure(runtime_config_.get().telemetry_enabled,
                                  runtime_config_.get().telemetry);
    if (!dedup_.load_problem().empty()) logger("agent")->warn("{}", dedup_.load_problem());
    if (const auto& why = data_lock_.read_only_reason()) {
        const std::string reason =
            "data directory read-only: " + config_.data_dir.string() + ": " + *why;
        logger("agent")->warn("{}; serving what it holds, every change will be refused", reason);
        snapshots_->add_degraded_reason(reason);
    }
}

Agent::~Agent() {
    // Threads first (they use the members), in the order that stops inputs before outputs.
    heartbeat_->stop();
    dispatcher_->stop();
    connect_lane_.stop();
    log_stream_->stop();
    session_->stop();
}

void Agent::register_commands() {
    const RestartSettings restart{config::is_supervised(config_.supervision, config::getenv_string),
                                  &restart_record_};
    auto specs = core_command_specs(topics_, *this, restart);
    for (auto& spec : log_command_specs(topics_, LogTap::instance(), *log_stream_)) {
        specs.push_back(std::move(spec));
    }
    for (auto& spec : specs) {
        const auto topic = spec.command_topic;
        dispatcher_->add(std::move(spec));
        router_.add(topic, dispatcher_->route(topic));
        session_->subscribe(topic, 1);
    }
    logger("agent")->info("restart command {}", restart.supervised ? "enabled (supervised)"
                                                                   : "disabled (not supervised)");
}

void Agent::watch_own_status() {
    router_.add(topics_.status(), [this](const mqtt::MqttMessage& m) { on_own_status(m); });
    session_->subscribe(topics_.status(), 1);
}

void Agent::on_own_status(const mqtt::MqttMessage& message) {
    std::optional<std::string> seen;
    {
        std::lock_guard<std::mutex> lock(takeover_mutex_);
        seen = takeover_.observe(message.payload);
    }
    if (!seen) return;
    logger("agent")->error(
        "{} (instance {} is this process): two agents share agent_id '{}' and take the "
        "connection from each other; give each device its own LUCID_AGENT_ID. Reconnecting "
        "only every {} ms from now on",
        *seen, instance_, config_.agent_id, config_.reconnect_max.count());
    session_->hold_off(true);
    snapshots_->set_conflict(seen);
    // Network thread: only queue the publish.
    connect_lane_.post([this] { snapshots_->publish_status(); });
}

void Agent::clear_quiet_conflict() {
    const auto connection = session_->connection();
    if (!connection) return;
    // The other process, holding off too, takes the connection back within one longest
    // backoff; three of them connected undisturbed mean it is gone.
    if (contract::Clock::now() - connection->since < 3 * config_.reconnect_max) return;
    {
        std::lock_guard<std::mutex> lock(takeover_mutex_);
        if (!takeover_.conflict()) return;
        takeover_.clear();
    }
    logger("agent")->info(
        "no other agent with agent_id '{}' seen for {} s; conflict cleared", config_.agent_id,
        std::chrono::duration_cast<std::chrono::seconds>(3 * config_.reconnect_max).count());
    session_->hold_off(false);
    snapshots_->set_conflict(std::nullopt);
}

int Agent::run() {
    auto log = logger("agent");
    const auto initial = runtime_config_.get();
    apply_log_level(initial.log_level);
    runtime_config_.on_change([this](const CoreConfig& c) {
        heartbeat_->set_period(heartbeat_period(c));
        apply_log_level(c.log_level);
        telemetry_->configure(c.telemetry_enabled, c.telemetry);
        configure_log_stream(c);
        component_metrics_->configure(c.telemetry_enabled, c.telemetry);
    });
    telemetry_->configure(initial.telemetry_enabled, initial.telemetry);
    configure_log_stream(initial);
    register_commands();
    watch_own_status();
    session_->on_connected([this](const mqtt::ConnectionInfo&) {
        // Network thread: only queue the work. A full lane means a publish_all is pending anyway.
        connect_lane_.post([this] {
            snapshots_->publish_all();
            for (const auto& step : online_steps_) {
                try {
                    step();
                } catch (const std::exception& e) {
                    logger("agent")->error("after connect: {}", e.what());
                }
            }
        });
    });
    log->info("lucid-agent {} starting: agent_id={} broker={} data_dir={}", config_.version,
              config_.agent_id, mqtt::redacted_url(config_.endpoint), config_.data_dir.string());
    try {
        session_->start();
    } catch (const std::exception& e) {
        log->error("cannot start the MQTT session: {}", e.what());
        return 1;
    }
    heartbeat_->start();
    telemetry_->start();
    log_stream_->start();
    const int code = shutdown_.wait();
    shutdown_cleanly();
    log->info("stopped (exit code {})", code);
    return code;
}

void Agent::shutdown_cleanly() {
    auto log = logger("agent");
    auto run_steps = [&](const std::vector<std::function<void()>>& steps) {
        for (const auto& step : steps) {
            try {
                step();
            } catch (const std::exception& e) {
                log->error("shutdown step failed: {}", e.what());
            }
        }
    };
    dispatcher_->close();  // before the cancel frees a lane: nothing queued may run now
    run_steps(stop_requested_steps_);
    // Commands next: once the lanes are stopped no queued install or start can bring up a
    // component that the shutdown steps are stopping, and queued commands get their answer
    // while the connection is still up.
    dispatcher_->stop();
    run_steps(shutdown_steps_);
    heartbeat_->stop();
    telemetry_->stop();
    log_stream_->stop();
    connect_lane_.stop();
    // The broker discards the Will on a clean DISCONNECT, so the offline status is published
    // explicitly, and only then do we disconnect: it must reach the broker first.
    if (auto connection = session_->connection()) {
        const auto outcome = snapshots_->publish_offline(connection->session);
        if (!outcome || !session_->wait_delivered(outcome.value(), kOfflineDeliveryTimeout)) {
            log->warn("offline status not acknowledged by the broker");
        }
    }
    session_->stop();
}

std::vector<std::string> Agent::republish_snapshots() { return snapshots_->publish_all(); }

CoreConfig Agent::current_config() const { return runtime_config_.get(); }

void Agent::apply_config(const CoreConfig& config, const commands::DedupEntry& answer) {
    const bool relabelled = config.labels != runtime_config_.get().labels;
    // The config file and the answer are one journal record: one fdatasync (dedup_store.hpp).
    runtime_config_.set(config, [&](const std::string& file, const std::string& content) {
        dedup_.record_with_file(answer.request_id, answer.result, file, content);
    });
    snapshots_->publish_cfg_state();
    if (relabelled) {
        snapshots_->set_labels(effective_labels(config));
        // On the lane that publishes at connect, so that a reconnect's snapshots (read before
        // the change) cannot land after these. A full lane has a publish_all pending, which
        // reads the new labels.
        connect_lane_.post([this] {
            snapshots_->publish_metadata();
            snapshots_->publish_status();
        });
    }
}

contract::Labels Agent::effective_labels(const CoreConfig& config) const {
    return config.labels ? *config.labels : config_.labels;
}

void Agent::configure_log_stream(const CoreConfig& config) {
    log_stream_->configure(config.logs_enabled,
                           parse_stream_level(config.logs_level).value_or(spdlog::level::info));
}

void Agent::request_exit(int exit_code) { shutdown_.request(exit_code); }

}  // namespace lucid::host::agent
