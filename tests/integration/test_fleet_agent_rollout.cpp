// Rolling the agent itself out (issue 20, item 5): a desired document's `agent` entry, given to
// real agents running as `lucid-agent run` under a supervisor that starts them again as
// systemd would (AgentHarness::start_supervised), by `lucidctl rollout start DESIRED.json`. The
// next build (the same objects relinked with the next patch version) converges every agent; a
// build that dies at start, fetched from the broker, is rolled back by the canary's launcher,
// which fails the canary and stops the rollout there.
#include <doctest/doctest.h>

#include <fstream>

#include "fleet_rig.hpp"
#include "supervisor.hpp"

using namespace lucid::itest;

namespace {

struct AgentFleet {
    Broker broker;
    TempDir dir;
    std::unique_ptr<FleetRig> rig;

    AgentFleet(const std::string& prefix, std::size_t count) {
        broker.start();
        rig = std::make_unique<FleetRig>(broker, broker);
        rig->supervised = true;
        // A Debug build with sanitizers is about 200 MB.
        rig->env["LUCID_MAX_ARTIFACT_BYTES"] = "1G";
        rig->add_agents(prefix, count, "ring=" + prefix);
    }
    std::string platform() {
        const auto meta = rig->client->wait_for(
            rig->agent(0).topic("core/metadata"),
            [](const Message& m) { return !m.str("build_platform").empty(); });
        REQUIRE(meta);
        return meta->str("build_platform");
    }
    // DESIRED.json with only an `agent` entry: `version` from `source` on this platform.
    std::string desired_file(const std::string& version, const std::string& source) {
        const auto file = dir.path() / ("desired-" + version + ".json");
        std::ofstream(file) << R"({"agent":{"version":")" << version << R"(","artifacts":{)"
                            << json_string(platform()) << R"(:{"source":)" << source << "}}}}";
        return file.string();
    }
    // Agent i's core/deployment said, at some point, that its own update ended in `outcome`
    // after `action`.
    bool agent_step(std::size_t i, const std::string& action, const std::string& outcome) {
        for (const auto& m : rig->client->messages(rig->agent(i).topic("core/deployment"))) {
            if (m.payload.empty()) continue;
            const auto doc = m.json();
            if (!doc.HasMember("agent") || !doc["agent"].IsObject()) continue;
            const auto& step = doc["agent"];
            if (step["action"].IsString() && step["action"].GetString() == action &&
                step["outcome"].IsString() && step["outcome"].GetString() == outcome) {
                return true;
            }
        }
        return false;
    }
    // Agent i's status says its last update ended in `outcome`, running `version`.
    bool last_upgrade(std::size_t i, const std::string& version, const std::string& outcome) {
        return rig->client
            ->wait_for(
                rig->agent(i).topic("status"),
                [&](const Message& m) {
                    if (m.str("state") != "online" || m.str("version") != version) return false;
                    const auto doc = m.json();
                    return doc.HasMember("last_upgrade") && doc["last_upgrade"].IsObject() &&
                           doc["last_upgrade"]["outcome"].IsString() &&
                           doc["last_upgrade"]["outcome"].GetString() == outcome;
                },
                std::chrono::seconds(60))
            .has_value();
    }
};

}  // namespace

TEST_CASE("rollout of the agent: canary and batch converge every agent on the next build") {
    AgentFleet fleet("agentnext", 3);
    const std::string next_sha = sha256_hex(read_bytes(LUCID_AGENT_NEXT_BIN));
    const std::string desired =
        fleet.desired_file(LUCID_AGENT_NEXT_VERSION,
                           R"({"type":"url","url":)" + json_string(file_url(LUCID_AGENT_NEXT_BIN)) +
                               R"(,"sha256":")" + next_sha + "\"}");

    auto done = fleet.rig->ctl({"rollout", "start", desired, "--select", "ring=agentnext", "--id",
                                "agent-next", "--batch", "2", "--timeout", "180"});
    std::string logs;
    for (std::size_t i = 0; i < fleet.rig->size(); ++i) logs += fleet.rig->agent(i).log();
    REQUIRE_MESSAGE(done.code == 0, std::string(done.output + logs));
    CHECK(done.has("converged (3 converged, 0 failed, 0 pending, 0 skipped, 0 rolled back)"));
    // Each batch waited for its agents across their handover: none was taken for offline.
    CHECK_MESSAGE(!done.has("offline"), done.output);
    for (std::size_t i = 0; i < fleet.rig->size(); ++i) {
        CHECK_MESSAGE(fleet.last_upgrade(i, LUCID_AGENT_NEXT_VERSION, "committed"),
                      fleet.rig->agent(i).log());
        CHECK(fleet.agent_step(i, "upgrade", "applied"));
        // Handed over once (exit 75), started again by the supervisor as the next build.
        CHECK(fleet.rig->agent(i).supervisor().exits() == std::vector<int>{75});
    }
    // A desired state's update answers no command: nobody sent core/cmd/upgrade.
    for (const auto& m : fleet.rig->client->all_messages()) {
        CHECK_MESSAGE(m.topic.find("core/evt/upgrade_result") == std::string::npos, m.topic);
    }
}

TEST_CASE("rollout of the agent: a build that dies is rolled back and stops the rollout") {
    AgentFleet fleet("agentbad", 2);
    // Published once on the broker: the agent fetches its own build as components do.
    const std::string bad = read_bytes(LUCID_AGENT_BAD_BIN);
    const std::string topic =
        "lucid/artifacts/lucid-agent/" LUCID_AGENT_BAD_VERSION "/" + fleet.platform();
    fleet.rig->client->publish(topic, bad, 1, true);
    const std::string desired = fleet.desired_file(
        LUCID_AGENT_BAD_VERSION,
        R"({"type":"broker","topic":")" + topic + R"(","sha256":")" + sha256_hex(bad) + "\"}");

    auto failed = fleet.rig->ctl({"rollout", "start", desired, "--select", "ring=agentbad", "--id",
                                  "agent-bad", "--timeout", "180"});
    CHECK_MESSAGE(failed.code == 1, std::string(failed.output + fleet.rig->agent(0).log()));
    CHECK_MESSAGE(failed.has("1 failure(s), more than --max-failures 0: stopping"), failed.output);
    CHECK_MESSAGE(failed.has("the agent: upgrade rolled back: " LUCID_AGENT_BAD_VERSION
                             " did not come up healthy"),
                  failed.output);
    // The canary runs its own build again: handed over (75), the bad build died (1), the
    // launcher rolled it back.
    CHECK_MESSAGE(fleet.last_upgrade(0, LUCID_AGENT_VERSION, "rolled_back"),
                  fleet.rig->agent(0).log());
    CHECK(fleet.agent_step(0, "upgrade", "failed"));
    CHECK(fleet.rig->agent(0).supervisor().exits() == std::vector<int>{75, 1});
    // The second agent was never written to: its build never changed.
    CHECK(fleet.rig->client->messages(fleet.rig->agent(1).topic("desired")).empty());
    CHECK(fleet.rig->agent(1).supervisor().exits().empty());
}
