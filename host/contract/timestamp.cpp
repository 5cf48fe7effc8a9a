#include "contract/timestamp.hpp"

#include <ctime>

#include <fmt/format.h>

namespace lucid::host::contract {

std::string utc_timestamp(Clock::time_point when) {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(when.time_since_epoch());
    // Floor division so that instants before 1970 still get a millisecond field in [0, 999].
    auto seconds = ms.count() / 1000;
    auto millis = ms.count() % 1000;
    if (millis < 0) {
        millis += 1000;
        seconds -= 1;
    }
    const std::time_t t = static_cast<std::time_t>(seconds);
    std::tm tm{};
    gmtime_r(&t, &tm);
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900,
                       tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, millis);
}

}  // namespace lucid::host::contract
