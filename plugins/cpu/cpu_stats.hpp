// Parsing of /proc/stat and /proc/loadavg for the cpu plugin. Pure functions over the files'
// text, so they can be tested on fixed samples; reading the files is the caller's job.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace lucid_cpu {

// The aggregate "cpu" line of /proc/stat, in clock ticks.
struct CpuTimes {
    std::uint64_t busy = 0;
    std::uint64_t total = 0;
};

std::optional<CpuTimes> parse_proc_stat(std::string_view text);

// Busy share between two samples, 0-100; nullopt when no time passed.
std::optional<double> usage_percent(const CpuTimes& before, const CpuTimes& after);

struct LoadAverage {
    double load1 = 0, load5 = 0, load15 = 0;
};

std::optional<LoadAverage> parse_loadavg(std::string_view text);

}  // namespace lucid_cpu
