// Another process online with this agent_id (host/agent/takeover_detector.hpp).
#include <doctest/doctest.h>

#include "agent/takeover_detector.hpp"

using lucid::host::agent::new_instance_id;
using lucid::host::agent::TakeoverDetector;

namespace {

std::string status(const std::string& state, const std::string& instance) {
    return R"({"state":")" + state + R"(","instance":")" + instance +
           R"(","version":"1.2.3","connected_since":"2026-11-30T01:00:00.000Z"})";
}

}  // namespace

TEST_CASE("another instance online after our own status came back is a conflict, said once") {
    TakeoverDetector detector("aaaa");
    CHECK_FALSE(detector.observe(status("online", "aaaa")));
    auto seen = detector.observe(status("online", "bbbb"));
    REQUIRE(seen);
    CHECK(*seen ==
          "another agent with this agent_id is online: instance bbbb, version 1.2.3, connected "
          "since 2026-11-30T01:00:00.000Z");
    CHECK(detector.conflict() == seen);
    CHECK_FALSE(detector.observe(status("online", "bbbb")));  // once
    detector.clear();
    CHECK_FALSE(detector.conflict());
    CHECK(detector.observe(status("online", "cccc")));
}

TEST_CASE("a foreign status before our own came back, offline ones and garbage are no conflict") {
    TakeoverDetector detector("aaaa");
    // The retained status of an earlier run of this agent that died without its Will.
    CHECK_FALSE(detector.observe(status("online", "old0")));
    CHECK_FALSE(detector.observe(status("online", "aaaa")));
    CHECK_FALSE(detector.observe(status("offline", "bbbb")));  // a Will says nobody is there
    CHECK_FALSE(detector.observe("not json"));
    CHECK_FALSE(detector.observe("[]"));
    CHECK_FALSE(detector.conflict());
    // An agent of a version without instance ids is somebody else too.
    auto seen = detector.observe(R"({"state":"online"})");
    REQUIRE(seen);
    CHECK(*seen == "another agent with this agent_id is online: instance unknown");
}

TEST_CASE("instance ids are 16 hex digits and differ per process start") {
    const auto a = new_instance_id();
    CHECK(a.size() == 16);
    CHECK(a.find_first_not_of("0123456789abcdef") == std::string::npos);
    CHECK(a != new_instance_id());
}

TEST_CASE("a status nested deep enough to overflow the stack is ignored, not parsed") {
    TakeoverDetector detector("aaaa");
    CHECK_FALSE(detector.observe(std::string(1'000'000, '[')));
    CHECK_FALSE(detector.observe(std::string(100'000, '{')));
}
