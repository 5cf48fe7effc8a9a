#include "cpu_stats.hpp"

#include <cstdio>
#include <string>

namespace lucid_cpu {

std::optional<CpuTimes> parse_proc_stat(std::string_view text) {
    // "cpu  user nice system idle iowait irq softirq steal guest guest_nice"
    if (text.substr(0, 4) != "cpu ") return std::nullopt;
    std::string line(text.substr(0, text.find('\n')));
    unsigned long long v[8] = {};
    int n = std::sscanf(line.c_str(), "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1],
                        &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]);
    if (n < 4) return std::nullopt;
    CpuTimes t;
    for (int i = 0; i < n; ++i) t.total += v[i];
    t.busy = t.total - v[3] - (n > 4 ? v[4] : 0);  // idle and iowait are not busy
    return t;
}

std::optional<double> usage_percent(const CpuTimes& before, const CpuTimes& after) {
    if (after.total <= before.total || after.busy < before.busy) return std::nullopt;
    return 100.0 * static_cast<double>(after.busy - before.busy) /
           static_cast<double>(after.total - before.total);
}

std::optional<LoadAverage> parse_loadavg(std::string_view text) {
    std::string line(text.substr(0, text.find('\n')));
    LoadAverage l;
    if (std::sscanf(line.c_str(), "%lf %lf %lf", &l.load1, &l.load5, &l.load15) != 3) {
        return std::nullopt;
    }
    return l;
}

}  // namespace lucid_cpu
