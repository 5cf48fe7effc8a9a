// De-duplication of a subscription that asks for it (plugin/duplicate_filter.hpp, ABI 1.1
// LUCID_SUBSCRIBE_DEDUP): by envelope id, 30 s, 2,048 ids, bounded.
#include <doctest/doctest.h>

#include <string>

#include "plugin/duplicate_filter.hpp"

using lucid::host::DuplicateFilter;
using lucid::host::envelope_id;

namespace {
const DuplicateFilter::Clock::time_point t0{};
}

TEST_CASE("an envelope id seen within 30 s is a duplicate; after 30 s it is new again") {
    DuplicateFilter filter;
    CHECK(filter.admit("e-1", t0));
    CHECK_FALSE(filter.admit("e-1", t0 + std::chrono::seconds(29)));
    CHECK(filter.admit("e-2", t0 + std::chrono::seconds(29)));
    CHECK(filter.admit("e-1", t0 + std::chrono::seconds(30)));  // expired, remembered afresh
    CHECK_FALSE(filter.admit("e-1", t0 + std::chrono::seconds(31)));
    CHECK(filter.size() == 2);
}

TEST_CASE("at most 2,048 ids are remembered, the oldest forgotten first") {
    DuplicateFilter filter;
    for (int i = 0; i < 2049; ++i) CHECK(filter.admit("id-" + std::to_string(i), t0));
    CHECK(filter.size() == DuplicateFilter::kCapacity);
    CHECK(filter.admit("id-0", t0));  // pushed out by the 2,049th
    CHECK_FALSE(filter.admit("id-2048", t0));
    // An id too long to keep is never remembered: delivered every time.
    const std::string huge(DuplicateFilter::kMaxIdBytes + 1, 'x');
    CHECK(filter.admit(huge, t0));
    CHECK(filter.admit(huge, t0));
}

TEST_CASE("an id forgotten (its message was not handed over) may come again") {
    DuplicateFilter filter;
    CHECK(filter.admit("a", t0));
    CHECK(filter.admit("b", t0));
    filter.forget("b");
    CHECK(filter.admit("b", t0));
    CHECK_FALSE(filter.admit("a", t0));
    filter.forget("never");  // unknown: nothing happens
    CHECK(filter.size() == 2);
}

TEST_CASE("the envelope id is a string member id of a JSON object, nothing else") {
    CHECK(*envelope_id(R"({"id":"e-1","type":"t","data":null})") == "e-1");
    CHECK(*envelope_id(R"(  {"data":{"id":"inner"},"id":"outer"})") == "outer");
    CHECK_FALSE(envelope_id(R"({"id":7})"));
    CHECK_FALSE(envelope_id(R"({"type":"t"})"));
    CHECK_FALSE(envelope_id(R"(["id"])"));
    CHECK_FALSE(envelope_id("raw bytes"));
    CHECK_FALSE(envelope_id(R"({"id":"e-1")"));  // cut short
    CHECK_FALSE(envelope_id(""));
}
