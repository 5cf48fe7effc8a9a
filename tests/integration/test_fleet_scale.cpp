// A hundred real agents on one broker (issue 16, item 8): a rollout with a canary and batches of
// 10% converges every agent, agents offline during it converge when they return, a lucidctl
// killed mid-rollout is replaced by `rollout resume`; then a version that fails its start()
// stops at --max-failures, the agents it changed get their previous desired state back and the
// rest are untouched.
#include <doctest/doctest.h>

#include <signal.h>

#include <set>
#include <string>

#include "fleet_rig.hpp"

using namespace lucid::itest;

namespace {

constexpr std::size_t kAgents = 100;

std::size_t index_of(const FleetRig& fleet, const std::string& id) {
    for (std::size_t i = 0; i < fleet.size(); ++i) {
        if (fleet.agents[i]->agent_id() == id) return i;
    }
    FAIL("no agent " << id);
    return 0;
}

}  // namespace

TEST_CASE(
    "100 agents: canary and batches converge all, offline ones on return, a killed "
    "lucidctl resumed; a failing version stops at the threshold and rolls back") {
    Broker broker;
    broker.start();
    FleetRig fleet(broker, broker);
    fleet.add_agents("scale", kAgents, "fleet=scale");
    const Artifact v1 = artifact(LUCID_ITEST_ECHO_1_0);
    const Artifact v3 = artifact(LUCID_ITEST_ECHO_3_0_THROWS);

    // Offline at the start: one in the first batch after the canary (agent ids sort as text:
    // scale-1, scale-10, scale-100, scale-11, scale-12, ...), others further on.
    const std::vector<std::string> offline{"scale-12", "scale-13", "scale-50", "scale-98",
                                           "scale-99"};
    for (const auto& id : offline) REQUIRE(fleet.agent(index_of(fleet, id)).stop(SIGTERM) == 0);

    // lucidctl is killed (no chance to pause) once the canary and two batches are done.
    Process lucidctl;
    TempDir dir;
    fleet.start_ctl(lucidctl,
                    {"rollout", "start", v1.path.string(), "--select", "fleet=scale", "--canary",
                     "1", "--batch", "10%", "--timeout", "120"},
                    dir.path() / "lucidctl.log");
    auto progressed = fleet.rollout_after(3, std::chrono::seconds(120));
    REQUIRE_MESSAGE(progressed, lucidctl.log());
    const std::string id = progressed->str("id");
    lucidctl.signal(SIGKILL);
    lucidctl.wait_exit(std::chrono::seconds(10));

    // The offline agents come back (their documents, written or not yet, wait for them) and
    // another lucidctl takes the rollout over: it was left `running`, hence --force.
    for (const auto& agent_id : offline) fleet.restart(index_of(fleet, agent_id));
    auto resumed = fleet.ctl({"rollout", "resume", id, "--force", "--timeout", "120"});
    CHECK_MESSAGE(resumed.code == 0, resumed.output);
    CHECK_MESSAGE(resumed.has("rollout " + id +
                              ": converged (100 converged, 0 failed, 0 pending, "
                              "0 skipped, 0 rolled back)"),
                  resumed.output);
    for (std::size_t i = 0; i < kAgents; ++i) {
        CHECK_MESSAGE(fleet.converged(i, "1.0.0", std::chrono::seconds(1)),
                      fleet.agent(i).agent_id());
    }

    // 3.0.0 throws in start(): the canary fails (1, tolerated), the first batch fails (11 > 5):
    // stop, the eleven changed agents get their 1.0.0 documents back, the other 89 see nothing.
    fleet.client->clear();
    auto bad =
        fleet.ctl({"rollout", "start", v3.path.string(), "--select", "fleet=scale", "--canary", "1",
                   "--batch", "10%", "--max-failures", "5", "--timeout", "120"});
    CHECK_MESSAGE(bad.code == 1, bad.output);
    CHECK_MESSAGE(bad.has("11 failure(s), more than --max-failures 5: stopping"), bad.output);
    CHECK_MESSAGE(
        bad.has(": failed (0 converged, 11 failed, 0 pending, 0 skipped, 11 rolled back)"),
        bad.output);
    std::size_t changed = 0;
    for (std::size_t i = 0; i < kAgents; ++i) {
        const bool written = !fleet.client->messages(fleet.agent(i).topic("desired")).empty();
        if (!written) {
            CHECK(fleet.client->messages(fleet.agent(i).topic("core/deployment")).empty());
            continue;
        }
        ++changed;
        CHECK(fleet.desired_version(i) == "1.0.0");  // the rollback's document, last
        CHECK_MESSAGE(fleet.converged(i, "1.0.0"), fleet.agent(i).log());
    }
    CHECK(changed == 11);
}
