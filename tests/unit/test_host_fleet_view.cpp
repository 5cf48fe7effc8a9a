// lucidctl's fleet view (lucidctl/fleet_view.hpp): agents read from retained messages, the
// orders of `agents --sort` and the counts of `lucidctl fleet`, on messages made here.
#include <doctest/doctest.h>

#include "lucidctl/fleet_view.hpp"

using namespace lucid::host::ctl;

namespace {

const auto kNow = *lucid::host::contract::parse_utc_timestamp("2026-11-30T12:00:00.000Z");

std::string status(const std::string& state, const std::string& version, const std::string& ts) {
    return R"({"ts":")" + ts + R"(","state":")" + state + R"(","version":")" + version +
           R"(","session":1,"connected_since":"2026-11-30T11:00:00.000Z"})";
}

ReceivedMessage msg(const std::string& id, const std::string& what, const std::string& payload) {
    return {"lucid/agents/" + id + "/" + what, payload, true};
}

// a: online 1.2.0, degraded, two components (one failed), converged; b: offline 1.10.0 since
// 10:00; c: online 1.2.0 running, no components snapshot; d: offline since 09:00, 0.9.0.
std::vector<ReceivedMessage> sample() {
    return {
        msg("a", "status", status("online", "1.2.0", "2026-11-30T11:59:00.000Z")),
        msg("a", "core/state",
            R"({"ts":"2026-11-30T11:59:30.000Z","state":"degraded","degraded_reasons":["x: y"]})"),
        msg("a", "core/components",
            R"({"count":2,"components":{"cpu":{"version":"1.0.0","state":"running"},)"
            R"("echo":{"version":"2.0.0","state":"failed"}}})"),
        msg("a", "core/metadata", R"({"labels":{"site":"b"},"build_platform":"linux_x86_64"})"),
        msg("a", "core/deployment",
            R"({"revision":3,"state":"converged","platform":"linux_x86_64","digest":"",)"
            R"("updated_at":null,"components":{},"rejected":null})"),
        msg("b", "status", status("offline", "1.10.0", "2026-11-30T10:00:00.000Z")),
        msg("b", "core/components",
            R"({"count":1,"components":{"cpu":{"version":"1.1.0","state":"running"}}})"),
        msg("c", "status", status("online", "1.2.0", "2026-11-30T11:58:00.000Z")),
        msg("c", "core/state", R"({"ts":"2026-11-30T11:58:00.000Z","state":"running"})"),
        msg("d", "status", status("offline", "0.9.0", "2026-11-30T09:00:00.000Z")),
        // Not agents: no status (forgotten), or not an agent's topic at all.
        msg("ghost", "core/state", R"({"state":"running"})"),
        {"lucid/agents/stray", "{}", true},
    };
}

std::vector<std::string> ids(const std::vector<const FleetAgent*>& agents) {
    std::vector<std::string> out;
    for (const auto* a : agents) out.push_back(a->id);
    return out;
}

}  // namespace

TEST_CASE("the fleet is read from retained messages, one entry per agent with a status") {
    const Fleet fleet = fleet_from_retained("lucid/agents", sample(), kNow);
    REQUIRE(fleet.size() == 4);
    const FleetAgent& a = fleet.at("a");
    CHECK(a.presence.online);
    CHECK(a.health == "degraded");
    CHECK(a.degraded_reasons == std::vector<std::string>{"x: y"});
    REQUIRE(a.components);
    CHECK(a.components->size() == 2);
    CHECK(a.failed_components() == 1);
    CHECK(a.installed("echo") == "2.0.0");
    CHECK(a.installed("none") == "");
    CHECK(a.platform == "linux_x86_64");
    CHECK(a.labels.at("site") == "b");
    REQUIRE(a.deployment);
    CHECK(a.deployment->state == "converged");
    CHECK_FALSE(fleet.at("c").components);
    CHECK(fleet.at("b").presence.last_seen == "2026-11-30T10:00:00.000Z");
    CHECK(fleet.count("ghost") == 0);
}

TEST_CASE("agents --sort orders by each key, ties by id") {
    const Fleet fleet = fleet_from_retained("lucid/agents", sample(), kNow);
    using V = std::vector<std::string>;
    CHECK(ids(sorted_agents(fleet, "agent")) == V{"a", "b", "c", "d"});
    CHECK(ids(sorted_agents(fleet, "state")) == V{"a", "c", "b", "d"});
    CHECK(ids(sorted_agents(fleet, "health")) == V{"a", "b", "d", "c"});
    CHECK(ids(sorted_agents(fleet, "version")) == V{"b", "a", "c", "d"});  // 1.10.0 > 1.2.0
    CHECK(ids(sorted_agents(fleet, "components")) == V{"a", "b", "c", "d"});
    CHECK(ids(sorted_agents(fleet, "last-seen")) == V{"d", "b", "a", "c"});
    CHECK(fleet_sort_keys().size() == 6);
}

TEST_CASE("the summary counts agents by version, components by version and state, outcomes") {
    const FleetSummary s = summarize(fleet_from_retained("lucid/agents", sample(), kNow));
    CHECK(s.agents == 4);
    CHECK(s.online == 2);
    CHECK(s.degraded == 1);
    REQUIRE(s.versions.size() == 3);
    CHECK(s.versions[0].version == "1.10.0");
    CHECK(s.versions[1].version == "1.2.0");
    CHECK(s.versions[1].agents == 2);
    CHECK(s.versions[1].online == 2);
    CHECK(s.versions[2].version == "0.9.0");
    REQUIRE(s.components.size() == 3);
    CHECK(s.components[0].component == "cpu");
    CHECK(s.components[0].version == "1.1.0");
    CHECK(s.components[1].version == "1.0.0");
    CHECK(s.components[2].component == "echo");
    CHECK(s.components[2].state == "failed");
    CHECK(s.components[2].agents == 1);
    using D = std::vector<std::pair<std::string, std::size_t>>;
    CHECK(s.deployments == D{{"converged", 1}, {"none", 3}});
}
