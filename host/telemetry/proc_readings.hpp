// The few numbers telemetry takes from /proc and /sys, parsed from their text (pure, fuzzed:
// a kernel's text is input like any other). Each returns nullopt when the text is not of the
// expected shape, never a made-up value.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace lucid::host::telemetry {

// The "cpu " line of /proc/stat: jiffies busy (all but idle and iowait) and in total.
struct CpuTimes {
    std::uint64_t busy = 0;
    std::uint64_t total = 0;
};
std::optional<CpuTimes> parse_proc_stat(std::string_view text);

// /proc/meminfo: (MemTotal - MemAvailable) / MemTotal, in percent.
std::optional<double> parse_memory_percent(std::string_view text);

// /proc/loadavg: the first field.
std::optional<double> parse_load1(std::string_view text);

// /proc/net/dev: received and sent bytes summed over every interface but lo.
struct NetBytes {
    std::uint64_t rx = 0;
    std::uint64_t tx = 0;
};
std::optional<NetBytes> parse_net_dev(std::string_view text);

// /proc/self/statm: resident pages (the second field).
std::optional<std::uint64_t> parse_statm_resident_pages(std::string_view text);

// /sys/class/thermal/thermal_zone*/temp: millidegrees Celsius, as degrees.
std::optional<double> parse_millidegrees(std::string_view text);

// The percent of `part` in `whole` from one sample to the next (counters that only grow);
// nullopt when nothing elapsed or a counter went back (a reset).
std::optional<double> percent_between(std::uint64_t part_before, std::uint64_t whole_before,
                                      std::uint64_t part_after, std::uint64_t whole_after);

}  // namespace lucid::host::telemetry
