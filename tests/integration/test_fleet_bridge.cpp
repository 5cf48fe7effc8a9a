// A fleet behind a bridge (issue 16, item 8): agents on a site mosquitto, lucidctl on a central
// one, the site bridged to the centre with `lucid/#` both ways (tests/support/broker.cpp). The
// retained statuses, artifacts, desired documents, deployments and the rollout's own state all
// cross it: the operator's journey is the same as on one broker.
#include <doctest/doctest.h>

#include <signal.h>

#include "fleet_rig.hpp"

using namespace lucid::itest;

TEST_CASE("a rollout from the central broker reaches agents on a bridged site broker") {
    Broker central;
    central.start();
    Broker site(Broker::Bridge{central.port()});
    site.start();
    FleetRig fleet(site, central);  // online only once their statuses crossed the bridge
    fleet.add_agents("site", 10, "site=remote");
    const Artifact v1 = artifact(LUCID_ITEST_ECHO_1_0);
    const Artifact v2 = artifact(LUCID_ITEST_ECHO_2_0);

    auto agents = fleet.ctl({"agents", "--select", "site=remote"});
    CHECK_MESSAGE(agents.code == 0, agents.output);
    for (std::size_t i = 0; i < fleet.size(); ++i) {
        CHECK_MESSAGE(agents.has(fleet.agent(i).agent_id()), agents.output);
    }

    auto first = fleet.ctl({"rollout", "start", v1.path.string(), "--select", "site=remote",
                            "--canary", "1", "--batch", "50%", "--timeout", "60"});
    CHECK_MESSAGE(first.code == 0, first.output);
    CHECK_MESSAGE(first.has("converged (10 converged, 0 failed, 0 pending, 0 skipped, 0 rolled "
                            "back)"),
                  first.output);
    for (std::size_t i = 0; i < fleet.size(); ++i) {
        CHECK_MESSAGE(fleet.converged(i, "1.0.0", std::chrono::seconds(1)),
                      fleet.agent(i).agent_id());
    }

    // One agent is offline through the next rollout: its document waits on the site broker,
    // and it converges when it returns while lucidctl still waits for it.
    REQUIRE(fleet.agent(9).stop(SIGTERM) == 0);
    Process lucidctl;
    TempDir dir;
    fleet.client->clear();
    fleet.start_ctl(lucidctl,
                    {"rollout", "start", v2.path.string(), "--select", "site=remote", "--canary",
                     "1", "--batch", "50%", "--timeout", "60"},
                    dir.path() / "lucidctl.log");
    const std::string offline_id = fleet.agent(9).agent_id();
    auto waiting = fleet.client->take(
        [&](const Message& m) {
            if (m.topic.rfind("lucid/rollouts/", 0) != 0 || m.payload.empty()) return false;
            auto doc = m.json();
            return doc["agents"].IsObject() && doc["agents"].HasMember(offline_id.c_str()) &&
                   std::string(doc["agents"][offline_id.c_str()]["state"].GetString()) == "pending";
        },
        std::chrono::seconds(60));
    REQUIRE_MESSAGE(waiting, lucidctl.log());
    fleet.restart(9);
    CHECK_MESSAGE(lucidctl.wait_exit(std::chrono::seconds(60)) == 0, lucidctl.log());
    CHECK_MESSAGE(has_text(lucidctl.log(), "converged (10 converged, 0 failed, 0 pending"),
                  lucidctl.log());
    for (std::size_t i = 0; i < fleet.size(); ++i) {
        CHECK_MESSAGE(fleet.converged(i, "2.0.0"), fleet.agent(i).log());
    }
}
