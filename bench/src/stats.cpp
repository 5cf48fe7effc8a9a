#include "stats.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace lucid::bench {

double percentile(std::vector<double> samples, double p) {
    if (samples.empty()) return 0;
    std::sort(samples.begin(), samples.end());
    const double rank = std::ceil(p / 100.0 * static_cast<double>(samples.size()));
    const std::size_t index =
        rank < 1 ? 0 : std::min(samples.size() - 1, static_cast<std::size_t>(rank) - 1);
    return samples[index];
}

double median(std::vector<double> samples) { return percentile(std::move(samples), 50); }

namespace {

std::string printf_string(const char* format, double value) {
    char text[64];
    std::snprintf(text, sizeof text, format, value);
    return text;
}

}  // namespace

std::string format_duration(double seconds) {
    if (seconds < 1e-3) return printf_string("%.0f µs", seconds * 1e6);
    if (seconds < 10e-3) return printf_string("%.2f ms", seconds * 1e3);
    if (seconds < 1) return printf_string("%.1f ms", seconds * 1e3);
    return printf_string("%.2f s", seconds);
}

std::string format_rate(double per_second) {
    const long long n = std::llround(per_second);
    std::string digits = std::to_string(n);
    std::string out;
    for (std::size_t i = 0; i < digits.size(); ++i) {
        if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
        out += digits[i];
    }
    return out + " /s";
}

std::string format_kib(double kib) { return printf_string("%.1f MiB", kib / 1024.0); }

std::string format_bytes(double bytes) {
    if (bytes < 1024) return printf_string("%.0f B", bytes);
    if (bytes < 1024 * 1024) return printf_string("%.1f KiB", bytes / 1024);
    return printf_string("%.2f MiB", bytes / (1024 * 1024));
}

std::string format_ratio(double lucid, double baseline) {
    if (baseline <= 0) return "-";
    return printf_string("%.2fx", lucid / baseline);
}

}  // namespace lucid::bench
