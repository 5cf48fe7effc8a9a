#include <doctest/doctest.h>

#include "mqtt/backoff.hpp"

using lucid::host::mqtt::Backoff;
using ms = std::chrono::milliseconds;

TEST_CASE("backoff grows exponentially, with jitter, and stays within its bounds") {
    Backoff backoff(ms(100), ms(5000), 42);
    ms previous_bound(0);
    for (unsigned attempt = 0; attempt < 40; ++attempt) {
        ms bound(100);
        for (unsigned i = 0; i < attempt && bound < ms(5000); ++i) bound *= 2;
        bound = std::min(bound, ms(5000));
        const auto delay = backoff.next();
        CAPTURE(attempt);
        CHECK(delay >= std::max(ms(100), bound / 2));
        CHECK(delay <= bound);
        CHECK(bound >= previous_bound);
        previous_bound = bound;
    }
    CHECK(previous_bound == ms(5000));
}

TEST_CASE("reset starts again from the minimum") {
    Backoff backoff(ms(10), ms(1000), 1);
    for (int i = 0; i < 10; ++i) backoff.next();
    backoff.reset();
    CHECK(backoff.next() == ms(10));
}

TEST_CASE("jitter spreads delays of agents seeded differently") {
    Backoff a(ms(1000), ms(60000), 1);
    Backoff b(ms(1000), ms(60000), 2);
    bool differed = false;
    for (int i = 0; i < 8; ++i) differed = differed || a.next() != b.next();
    CHECK(differed);
}
