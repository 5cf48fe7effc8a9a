// Percentiles and the units the table prints. Pure functions.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace lucid::bench {

// Nearest-rank percentile (p in 0..100) of the samples; 0 for none.
double percentile(std::vector<double> samples, double p);
double median(std::vector<double> samples);

// Seconds between two steady_clock points, as a double.
template <class TimePoint>
double seconds_between(TimePoint from, TimePoint to) {
    return std::chrono::duration<double>(to - from).count();
}

// "85 µs", "1.23 ms", "2.41 s" for a duration in seconds.
std::string format_duration(double seconds);
// "12,345 /s"
std::string format_rate(double per_second);
// "6.1 MiB" from KiB
std::string format_kib(double kib);
// "123.4 KiB" / "512 B" from bytes
std::string format_bytes(double bytes);
// "1.23x" (lucid / baseline); "-" when the baseline is 0
std::string format_ratio(double lucid, double baseline);

}  // namespace lucid::bench
