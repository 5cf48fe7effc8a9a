#include "telemetry/system_metrics.hpp"

#include <sys/statvfs.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

namespace lucid::host::telemetry {
namespace fs = std::filesystem;

namespace {
constexpr std::size_t kMaxProcText = 256 * 1024;  // /proc/net/dev of a router stays far below
}

SystemMetrics::SystemMetrics(SystemPaths paths)
    : paths_(std::move(paths)), page_size_(::sysconf(_SC_PAGESIZE)) {}

std::optional<std::string> SystemMetrics::text_of(const fs::path& file) const {
    std::ifstream in(file, std::ios::binary);
    if (!in) return std::nullopt;
    std::string text(kMaxProcText, '\0');
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    text.resize(static_cast<std::size_t>(in.gcount()));
    if (in.bad()) return std::nullopt;
    return text;
}

std::optional<double> SystemMetrics::net_rate(bool rx, Clock::time_point now) {
    const auto text = text_of(paths_.proc / "net/dev");
    const auto bytes = text ? parse_net_dev(*text) : std::nullopt;
    if (!bytes) return std::nullopt;
    const std::uint64_t total = rx ? bytes->rx : bytes->tx;
    const auto last = last_net_.find(rx);
    std::optional<double> rate;
    if (last != last_net_.end() && now > last->second.at && total >= last->second.bytes) {
        const double seconds = std::chrono::duration<double>(now - last->second.at).count();
        rate = static_cast<double>(total - last->second.bytes) / seconds;
    }
    last_net_[rx] = NetSample{total, now};
    return rate;
}

std::optional<double> SystemMetrics::read(std::string_view metric, Clock::time_point now) {
    if (metric == "cpu_percent") {
        const auto text = text_of(paths_.proc / "stat");
        const auto times = text ? parse_proc_stat(*text) : std::nullopt;
        if (!times) return std::nullopt;
        std::optional<double> percent;
        if (last_cpu_) {
            percent = percent_between(last_cpu_->busy, last_cpu_->total, times->busy, times->total);
        }
        last_cpu_ = times;
        return percent;
    }
    if (metric == "memory_percent") {
        const auto text = text_of(paths_.proc / "meminfo");
        return text ? parse_memory_percent(*text) : std::nullopt;
    }
    if (metric == "load1") {
        const auto text = text_of(paths_.proc / "loadavg");
        return text ? parse_load1(*text) : std::nullopt;
    }
    if (metric == "temperature_c") {
        const auto text = text_of(paths_.sys / "class/thermal/thermal_zone0/temp");
        return text ? parse_millidegrees(*text) : std::nullopt;
    }
    if (metric == "net_rx_bytes_per_s") return net_rate(true, now);
    if (metric == "net_tx_bytes_per_s") return net_rate(false, now);
    if (metric == "agent_rss_bytes") {
        const auto text = text_of(paths_.proc / "self/statm");
        const auto pages = text ? parse_statm_resident_pages(*text) : std::nullopt;
        if (!pages || page_size_ <= 0) return std::nullopt;
        return static_cast<double>(*pages) * static_cast<double>(page_size_);
    }
    if (metric == "disk_percent") {
        struct statvfs st {};
        if (paths_.data_dir.empty() || ::statvfs(paths_.data_dir.c_str(), &st) != 0) {
            return std::nullopt;
        }
        // As df counts: used over what non-root users may use.
        const double used = static_cast<double>(st.f_blocks - st.f_bfree);
        const double usable = used + static_cast<double>(st.f_bavail);
        if (usable <= 0) return std::nullopt;
        return 100.0 * used / usable;
    }
    return std::nullopt;
}

}  // namespace lucid::host::telemetry
