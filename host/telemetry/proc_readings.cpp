#include "telemetry/proc_readings.hpp"

#include <algorithm>
#include <charconv>
#include <vector>

namespace lucid::host::telemetry {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t'; }

// The whitespace-separated fields of one line.
std::vector<std::string_view> fields(std::string_view line) {
    std::vector<std::string_view> out;
    std::size_t i = 0;
    while (i < line.size()) {
        while (i < line.size() && is_space(line[i])) ++i;
        const std::size_t start = i;
        while (i < line.size() && !is_space(line[i])) ++i;
        if (i > start) out.push_back(line.substr(start, i - start));
    }
    return out;
}

std::optional<std::uint64_t> to_u64(std::string_view text) {
    std::uint64_t value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
    return value;
}

std::optional<double> to_double(std::string_view text) {
    // from_chars for double is not in every libstdc++ we build with: digits and one dot only.
    double value = 0;
    double scale = 0;
    bool digit = false;
    for (const char c : text) {
        if (c >= '0' && c <= '9') {
            digit = true;
            if (scale == 0) {
                value = value * 10 + (c - '0');
            } else {
                value += (c - '0') * scale;
                scale /= 10;
            }
        } else if (c == '.' && scale == 0) {
            scale = 0.1;
        } else {
            return std::nullopt;
        }
    }
    if (!digit) return std::nullopt;
    return value;
}

// Calls `fn` for each line until it returns true.
template <class Fn>
void each_line(std::string_view text, Fn fn) {
    while (!text.empty()) {
        const std::size_t end = text.find('\n');
        const std::string_view line = text.substr(0, end);
        if (fn(line)) return;
        if (end == std::string_view::npos) return;
        text.remove_prefix(end + 1);
    }
}

}  // namespace

std::optional<CpuTimes> parse_proc_stat(std::string_view text) {
    std::optional<CpuTimes> out;
    each_line(text, [&](std::string_view line) {
        const auto f = fields(line);
        if (f.empty() || f[0] != "cpu") return false;
        if (f.size() < 5) return true;
        CpuTimes times;
        for (std::size_t i = 1; i < f.size() && i <= 10; ++i) {
            const auto v = to_u64(f[i]);
            if (!v) return true;
            // user nice system idle iowait irq softirq steal guest guest_nice: guest time is
            // already counted in user and nice.
            // Sums that would wrap are no kernel's counters.
            if (i <= 8 && __builtin_add_overflow(times.total, *v, &times.total)) return true;
            if (i <= 8 && i != 4 && i != 5) times.busy += *v;  // a part of total: no wrap
        }
        out = times;
        return true;
    });
    return out;
}

std::optional<double> parse_memory_percent(std::string_view text) {
    std::optional<std::uint64_t> total;
    std::optional<std::uint64_t> available;
    each_line(text, [&](std::string_view line) {
        const auto f = fields(line);
        if (f.size() >= 2 && f[0] == "MemTotal:") total = to_u64(f[1]);
        if (f.size() >= 2 && f[0] == "MemAvailable:") available = to_u64(f[1]);
        return total && available;
    });
    if (!total || !available || *total == 0 || *available > *total) return std::nullopt;
    return 100.0 * static_cast<double>(*total - *available) / static_cast<double>(*total);
}

std::optional<double> parse_load1(std::string_view text) {
    const auto f = fields(text.substr(0, text.find('\n')));
    if (f.empty()) return std::nullopt;
    return to_double(f[0]);
}

std::optional<NetBytes> parse_net_dev(std::string_view text) {
    NetBytes sum;
    bool any = false;
    bool bad = false;
    each_line(text, [&](std::string_view line) {
        const std::size_t colon = line.find(':');
        if (colon == std::string_view::npos) return false;  // the two header lines
        const auto name = fields(line.substr(0, colon));
        if (name.size() != 1) return false;
        const auto f = fields(line.substr(colon + 1));
        if (f.size() < 9) {
            bad = true;
            return true;
        }
        const auto rx = to_u64(f[0]);
        const auto tx = to_u64(f[8]);
        if (!rx || !tx) {
            bad = true;
            return true;
        }
        if (name[0] == "lo") return false;
        if (__builtin_add_overflow(sum.rx, *rx, &sum.rx) ||
            __builtin_add_overflow(sum.tx, *tx, &sum.tx)) {
            bad = true;
            return true;
        }
        any = true;
        return false;
    });
    if (bad) return std::nullopt;
    if (!any) return NetBytes{};  // only lo: nothing went in or out
    return sum;
}

std::optional<std::uint64_t> parse_statm_resident_pages(std::string_view text) {
    const auto f = fields(text.substr(0, text.find('\n')));
    if (f.size() < 2) return std::nullopt;
    return to_u64(f[1]);
}

std::optional<double> parse_millidegrees(std::string_view text) {
    while (!text.empty() && (text.back() == '\n' || is_space(text.back()))) text.remove_suffix(1);
    bool negative = !text.empty() && text.front() == '-';
    if (negative) text.remove_prefix(1);
    const auto v = to_u64(text);
    if (!v) return std::nullopt;
    const double degrees = static_cast<double>(*v) / 1000.0;
    return negative ? -degrees : degrees;
}

std::optional<double> percent_between(std::uint64_t part_before, std::uint64_t whole_before,
                                      std::uint64_t part_after, std::uint64_t whole_after) {
    if (whole_after <= whole_before || part_after < part_before) return std::nullopt;
    const std::uint64_t part = part_after - part_before;
    const std::uint64_t whole = whole_after - whole_before;
    if (part >= whole) return 100.0;
    // Compared as integers above: as doubles two large counters may round to one value, and the
    // quotient must still not pass 100 (fuzz target proc found it).
    return std::min(100.0, 100.0 * static_cast<double>(part) / static_cast<double>(whole));
}

}  // namespace lucid::host::telemetry
