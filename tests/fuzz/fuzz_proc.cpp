// The /proc and /sys texts telemetry reads (telemetry/proc_readings.hpp). Properties: no crash,
// no made-up value: a memory percent within 0..100, a percent between two samples within 0..100,
// rx/tx sums that do not wrap.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "telemetry/proc_readings.hpp"

namespace {

void check(bool condition) {
    if (!condition) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace lucid::host::telemetry;
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    if (const auto cpu = parse_proc_stat(text)) check(cpu->busy <= cpu->total);
    if (const auto memory = parse_memory_percent(text)) check(*memory >= 0 && *memory <= 100);
    if (const auto load = parse_load1(text)) check(*load >= 0);
    (void)parse_net_dev(text);
    (void)parse_statm_resident_pages(text);
    (void)parse_millidegrees(text);
    if (size >= 32) {
        std::uint64_t v[4] = {};
        for (int i = 0; i < 4; ++i) {
            for (int b = 0; b < 8; ++b) v[i] = (v[i] << 8) | data[i * 8 + b];
        }
        if (const auto p = percent_between(v[0], v[1], v[2], v[3])) check(*p >= 0 && *p <= 100);
    }
    return 0;
}
