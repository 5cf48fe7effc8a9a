// The contract's timestamp format (contract §3.1): UTC ISO-8601 with milliseconds and `Z`,
// e.g. 2026-11-22T14:05:01.123Z. Pure; thread-safe.
#pragma once

#include <chrono>
#include <string>

namespace lucid::host::contract {

using Clock = std::chrono::system_clock;

std::string utc_timestamp(Clock::time_point when);

}  // namespace lucid::host::contract
