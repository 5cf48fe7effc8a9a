// Reconnect delays: bounded exponential backoff with jitter, owned by our code rather than
// libmosquitto's (whose "exponential" option grows quadratically and which we cannot supervise).
//
// Attempt n waits a random delay in [max(min, b/2), b] where b = min(max, min * 2^n): the jitter
// spreads a fleet that lost its broker at the same instant, the bound keeps a device from
// waiting longer than `max`. reset() after a successful connection.
// Thread: not thread-safe (owned by the session thread). Errors: none.
#pragma once

#include <chrono>
#include <cstdint>
#include <random>

namespace lucid::host::mqtt {

class Backoff {
  public:
    using ms = std::chrono::milliseconds;

    // `min` must be > 0 and <= `max` (the config resolver guarantees it).
    Backoff(ms min, ms max, std::uint64_t seed);

    ms next();  // the delay before the next attempt; advances the attempt counter
    void reset() { attempt_ = 0; }
    unsigned attempt() const { return attempt_; }

  private:
    ms min_;
    ms max_;
    unsigned attempt_ = 0;
    std::mt19937_64 rng_;
};

}  // namespace lucid::host::mqtt
