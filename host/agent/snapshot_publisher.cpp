#include "agent/snapshot_publisher.hpp"

#include "common/logging.hpp"

namespace lucid::host::agent {

using contract::Clock;

SnapshotPublisher::SnapshotPublisher(mqtt::Publisher& publisher, contract::AgentTopics topics,
                                     AgentIdentity identity, ConnectionSource connection,
                                     const RuntimeConfig& config, ComponentSource components)
    : publisher_(publisher),
      topics_(std::move(topics)),
      identity_(std::move(identity)),
      connection_(std::move(connection)),
      config_(config),
      components_(std::move(components)) {}

void SnapshotPublisher::set_component_source(ComponentSource components) {
    std::lock_guard<std::mutex> lock(mutex_);
    components_ = std::move(components);
}

void SnapshotPublisher::add_extra_snapshots(ExtraSnapshots extra) {
    std::lock_guard<std::mutex> lock(mutex_);
    extras_.push_back(std::move(extra));
}

void SnapshotPublisher::add_degraded_reason(std::string reason) {
    std::lock_guard<std::mutex> lock(mutex_);
    degraded_reasons_.push_back(std::move(reason));
}

void SnapshotPublisher::add_degraded_source(DegradedSource source) {
    std::lock_guard<std::mutex> lock(mutex_);
    degraded_sources_.push_back(std::move(source));
}

void SnapshotPublisher::set_conflict(std::optional<std::string> conflict) {
    std::lock_guard<std::mutex> lock(mutex_);
    conflict_ = std::move(conflict);
}

void SnapshotPublisher::set_last_upgrade(std::optional<contract::LastUpgradeInfo> last) {
    std::lock_guard<std::mutex> lock(mutex_);
    last_upgrade_ = std::move(last);
}

void SnapshotPublisher::set_labels(contract::Labels labels) {
    std::lock_guard<std::mutex> lock(mutex_);
    labels_ = std::move(labels);
}

double SnapshotPublisher::uptime_s() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
}

bool SnapshotPublisher::publish(const std::string& topic, const std::string& payload) {
    const auto outcome = publisher_.publish(topic, payload, 1, true);
    if (!outcome) logger("agent")->warn("cannot publish {}: {}", topic, outcome.error().message);
    return outcome.ok();
}

std::vector<contract::ComponentSnapshot> SnapshotPublisher::components() const {
    ComponentSource source;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        source = components_;
    }
    return source ? source() : std::vector<contract::ComponentSnapshot>{};
}

std::vector<std::string> SnapshotPublisher::publish_all() {
    std::vector<std::string> published;
    const std::pair<const char*, bool (SnapshotPublisher::*)()> core[] = {
        {"status", &SnapshotPublisher::publish_status},
        {"metadata", &SnapshotPublisher::publish_metadata},
        {"state", &SnapshotPublisher::publish_core_state},
        {"components", &SnapshotPublisher::publish_components},
        {"cfg", &SnapshotPublisher::publish_cfg_state}};
    for (const auto& [name, publish_one] : core) {
        if ((this->*publish_one)()) published.emplace_back(name);
    }
    std::vector<ExtraSnapshots> extras;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        extras = extras_;
    }
    for (const auto& extra : extras) {
        try {
            for (auto& name : extra()) published.push_back(std::move(name));
        } catch (const std::exception& e) {
            logger("agent")->error("extra snapshots failed: {}", e.what());
        }
    }
    return published;
}

bool SnapshotPublisher::publish_status() {
    const auto connection = connection_();
    contract::StatusInfo info;
    info.online = true;
    info.agent_id = identity_.agent_id;
    info.version = identity_.version;
    info.session = connection ? connection->session : 0;
    if (connection) info.connected_since = connection->since;
    info.uptime_s = uptime_s();
    info.instance = identity_.instance;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        info.conflict = conflict_;
        info.labels = labels_;
        info.last_upgrade = last_upgrade_;
    }
    return publish(topics_.status(), contract::status_payload(info, Clock::now()));
}

bool SnapshotPublisher::publish_metadata() {
    contract::Labels labels;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        labels = labels_;
    }
    contract::MetadataInfo info{identity_.agent_id, identity_.version,   identity_.platform,
                                identity_.arch,     identity_.hostname,  identity_.plugin_abi,
                                std::move(labels),  LUCID_BUILD_PLATFORM};
    return publish(topics_.core_metadata(), contract::metadata_payload(info, Clock::now()));
}

bool SnapshotPublisher::publish_core_state() {
    contract::CoreStateInfo info;
    info.agent_id = identity_.agent_id;
    info.uptime_s = uptime_s();
    std::vector<DegradedSource> sources;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        info.degraded_reasons = degraded_reasons_;
        sources = degraded_sources_;
    }
    for (const auto& source : sources) {  // outside the lock: a source may read a file
        for (auto& reason : source()) info.degraded_reasons.push_back(std::move(reason));
    }
    for (const auto& c : components()) {
        if (c.state == ComponentState::running) ++info.components_running;
        if (counts_as_failed(c.state)) ++info.components_failed;
    }
    return publish(topics_.core_state(), contract::core_state_payload(info, Clock::now()));
}

bool SnapshotPublisher::publish_components() {
    std::lock_guard<std::mutex> lock(components_mutex_);
    return publish_components_locked(components());
}

bool SnapshotPublisher::publish_components_locked(
    const std::vector<contract::ComponentSnapshot>& list) {
    components_said_ = list;
    return publish(topics_.core_components(), components_payload_.payload(list, Clock::now()));
}

bool SnapshotPublisher::publish_component_change() {
    std::lock_guard<std::mutex> lock(components_mutex_);
    const auto list = components();
    if (components_said_ && *components_said_ == list) return false;
    const bool published = publish_components_locked(list);
    publish_core_state();
    return published;
}

bool SnapshotPublisher::publish_cfg_state() {
    rapidjson::Document cfg(rapidjson::kObjectType);
    write_core_config(config_.get(), cfg, cfg.GetAllocator());
    return publish(topics_.core_cfg_state(), contract::cfg_state_payload(cfg, Clock::now()));
}

mqtt::WillMessage SnapshotPublisher::will(std::uint64_t session) const {
    return mqtt::WillMessage{topics_.status(),
                             contract::will_payload(identity_.agent_id, identity_.version, session,
                                                    identity_.instance, Clock::now()),
                             1, true};
}

mqtt::MessageId SnapshotPublisher::publish_offline(std::uint64_t session) {
    const auto w = will(session);
    return publisher_.publish(w.topic, w.payload, w.qos, w.retain);
}

}  // namespace lucid::host::agent
