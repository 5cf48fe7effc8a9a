#include "mqtt/backoff.hpp"

#include <algorithm>

namespace lucid::host::mqtt {

Backoff::Backoff(ms min, ms max, std::uint64_t seed)
    : min_(std::max(ms(1), min)), max_(std::max(min_, max)), rng_(seed) {}

Backoff::ms Backoff::next() {
    // Double until the cap; stop shifting once there so the counter cannot overflow the value.
    ms bound = min_;
    for (unsigned i = 0; i < attempt_ && bound < max_; ++i) bound *= 2;
    bound = std::min(bound, max_);
    if (attempt_ < 64) ++attempt_;
    const ms low = std::max(min_, bound / 2);
    std::uniform_int_distribution<ms::rep> pick(low.count(), bound.count());
    return ms(pick(rng_));
}

}  // namespace lucid::host::mqtt
