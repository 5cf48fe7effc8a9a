// Reads the device's metrics (telemetry_config.hpp's kMetrics) straight from /proc, /sys and
// statvfs: no library, no process spawned, a few small reads (contract §4.14).
//
// Rates (cpu_percent, net_*_bytes_per_s) are taken between two reads of the same metric, so the
// first read of one gives nothing. Not thread-safe: one TelemetryStream owns it.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "telemetry/proc_readings.hpp"

namespace lucid::host::telemetry {

struct SystemPaths {
    std::filesystem::path proc = "/proc";
    std::filesystem::path sys = "/sys";
    std::filesystem::path data_dir;  // disk_percent: its filesystem
};

class SystemMetrics {
  public:
    using Clock = std::chrono::steady_clock;
    explicit SystemMetrics(SystemPaths paths);

    // The metric's value now; nullopt when the machine has none (no thermal zone), its file
    // cannot be read, or a rate has no earlier read yet.
    std::optional<double> read(std::string_view metric, Clock::time_point now);

  private:
    std::optional<std::string> text_of(const std::filesystem::path& file) const;
    std::optional<double> net_rate(bool rx, Clock::time_point now);

    SystemPaths paths_;
    long page_size_;
    std::optional<CpuTimes> last_cpu_;
    struct NetSample {
        std::uint64_t bytes = 0;
        Clock::time_point at;
    };
    std::map<bool, NetSample> last_net_;  // by direction (rx: true)
};

}  // namespace lucid::host::telemetry
