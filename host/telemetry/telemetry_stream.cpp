#include "telemetry/telemetry_stream.hpp"

#include "telemetry/metric_publication.hpp"

namespace lucid::host::telemetry {
namespace {

constexpr auto kTick = std::chrono::seconds(1);

bool any_enabled(bool enabled, const TelemetryConfig& config) {
    if (!enabled) return false;
    for (const auto& [name, settings] : config.metrics) {
        if (settings.enabled) return true;
    }
    return false;
}

}  // namespace

TelemetryStream::TelemetryStream(SystemMetrics metrics, std::string base, Publish publish)
    : metrics_(std::move(metrics)), source_(base + "/telemetry"), publish_(std::move(publish)) {}

TelemetryStream::~TelemetryStream() { stop(); }

void TelemetryStream::configure(bool enabled, TelemetryConfig config) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        enabled_ = enabled;
        config_ = std::move(config);
    }
    wake_.notify_all();
}

void TelemetryStream::start() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (thread_.joinable()) return;
    stopping_ = false;
    thread_ = std::thread([this] { run(); });
}

void TelemetryStream::stop() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
}

void TelemetryStream::run() {
    std::unique_lock<std::mutex> lock(mutex_);
    auto next = Clock::now();
    while (!stopping_) {
        if (!any_enabled(enabled_, config_)) {
            // Nothing to stream: no wake-ups at all until the config changes.
            published_.clear();
            wake_.wait(lock, [&] { return stopping_ || any_enabled(enabled_, config_); });
            next = Clock::now();
            continue;
        }
        if (Clock::now() < next) {
            wake_.wait_until(lock, next);
            continue;  // a configure() or stop() may have woken it early
        }
        const TelemetryConfig config = config_;
        lock.unlock();
        // Due-ness is judged on the schedule, not on the moment the thread woke: a wake a few
        // microseconds early against the last one would otherwise skip a whole interval.
        tick(next, config);
        lock.lock();
        next += kTick;
        if (next < Clock::now()) next = Clock::now() + kTick;  // a suspended machine
    }
}

void TelemetryStream::tick(Clock::time_point scheduled, const TelemetryConfig& config) {
    const auto now = scheduled;
    for (const auto& info : kMetrics) {
        const MetricSettings settings = config.of(info.name);
        auto& state = published_[std::string(info.name)];
        if (!settings.enabled) {
            state = Published{};
            continue;
        }
        const bool due = !state.at || now - *state.at >= std::chrono::seconds(settings.interval_s);
        const bool watching = settings.change_threshold_percent.has_value();
        // A rate needs a first sample; a value is read only when it may be published.
        if (!due && !watching && state.read_once) continue;
        // Rates divide by the real time between two readings.
        const auto value = metrics_.read(info.name, Clock::now());
        state.read_once = true;
        if (!value) continue;
        const bool early = watching && state.value && state.at &&
                           now - *state.at >= kEarliestRepeat &&
                           moved_by(*state.value, *value, *settings.change_threshold_percent);
        if (!due && !early) continue;
        publish(info, *value);
        state.value = value;
        state.at = now;
    }
}

void TelemetryStream::publish(const MetricInfo& metric, double value) {
    const std::string type(metric.name);
    publish_("telemetry/" + type,
             metric_payload(type, value, metric.unit, source_, std::chrono::system_clock::now()));
}

}  // namespace lucid::host::telemetry
