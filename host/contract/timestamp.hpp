// The contract's timestamp format (contract §3.1): UTC ISO-8601 with milliseconds and `Z`,
// e.g. 2026-11-22T14:05:01.123Z. Pure; thread-safe.
#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace lucid::host::contract {

using Clock = std::chrono::system_clock;

std::string utc_timestamp(Clock::time_point when);

// "2026-11-30T00:36:36.123Z" (also without milliseconds, or with one or two digits of them) →
// time point; nullopt when malformed (a date that does not exist, a leap second, four digits of
// milliseconds, a '.' without any) or outside the years 1970 to 2200.
std::optional<Clock::time_point> parse_utc_timestamp(const std::string& text);

}  // namespace lucid::host::contract
