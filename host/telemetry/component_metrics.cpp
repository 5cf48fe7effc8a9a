#include "telemetry/component_metrics.hpp"

#include "contract/topics.hpp"
#include "telemetry/metric_publication.hpp"

namespace lucid::host::telemetry {

ComponentMetrics::ComponentMetrics(std::string base, Publish publish)
    : base_(std::move(base)), publish_(std::move(publish)) {}

void ComponentMetrics::configure(bool enabled, TelemetryConfig config) {
    std::lock_guard<std::mutex> lock(mutex_);
    enabled_ = enabled;
    config_ = std::move(config);
    // A metric switched off starts afresh when it is switched on again: its next reading goes
    // out at once, as an agent metric's does.
    for (auto it = published_.begin(); it != published_.end();) {
        const bool on = enabled_ && config_.of_component(it->first.first, it->first.second).enabled;
        it = on ? std::next(it) : published_.erase(it);
    }
}

bool ComponentMetrics::offer(const std::string& component_id, const std::string& metric,
                             double value, const std::string& unit) {
    return offer(component_id, metric, value, unit, Clock::now());
}

bool ComponentMetrics::offer(const std::string& component_id, const std::string& metric,
                             double value, const std::string& unit, Clock::time_point now) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        const auto key = std::make_pair(component_id, metric);
        const MetricSettings settings = config_.of_component(component_id, metric);
        if (!enabled_ || !settings.enabled) {
            published_.erase(key);
            return true;
        }
        const auto last = published_.find(key);
        if (last != published_.end()) {
            const auto since = now - last->second.at;
            // A plugin reading on a timer of the interval offers it a few ms early or late;
            // judged strictly, an early one waits a whole extra period (2 s became 3 s every
            // other time: a walk finding).
            const bool due = since + kOfferJitter >= std::chrono::seconds(settings.interval_s);
            const bool early =
                settings.change_threshold_percent && since >= kEarliestRepeat &&
                moved_by(last->second.value, value, *settings.change_threshold_percent);
            if (!due && !early) return true;
        }
        published_[key] = Published{value, now};
    }
    const std::string prefix = contract::component_topic(base_, component_id, "telemetry");
    return publish_("components/" + component_id + "/telemetry/" + metric,
                    metric_payload(metric, value, unit, prefix, std::chrono::system_clock::now()));
}

}  // namespace lucid::host::telemetry
