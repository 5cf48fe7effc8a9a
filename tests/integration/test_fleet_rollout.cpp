// Staged rollouts as an operator runs them (issue 16, item 4): lucidctl rollout start over a few
// real agents on one broker, with FILE.so published through the broker; a canary that fails
// stops the rollout and the agents changed get their previous desired state back; agents offline
// at the start are pending and converge when they return; Ctrl-C pauses and resume finishes.
#include <doctest/doctest.h>

#include <signal.h>

#include <fstream>
#include <memory>

#include "fleet_rig.hpp"

using namespace lucid::itest;

namespace {

// A broker and agents with the given labels, one by one.
struct Fleet {
    Broker broker;
    std::unique_ptr<FleetRig> rig;

    explicit Fleet(const std::vector<std::pair<std::string, std::string>>& ids_and_labels) {
        broker.start();
        rig = std::make_unique<FleetRig>(broker, broker);
        rig->env.clear();  // the drop-in directory as an operator leaves it: on
        for (const auto& [id, labels] : ids_and_labels) rig->add_agent(id, labels);
    }
};

}  // namespace

TEST_CASE("rollout: canary and batches converge the selection; a failing canary rolls back") {
    Fleet fleet({{"ro-1", "site=a"},
                 {"ro-2", "site=a"},
                 {"ro-3", "site=a"},
                 {"ro-4", "site=a"},
                 {"ro-5", "site=b"}});
    const Artifact v1 = artifact(LUCID_ITEST_ECHO_1_0);
    const Artifact v3 = artifact(LUCID_ITEST_ECHO_3_0_THROWS);

    auto plan = fleet.rig->ctl(
        {"rollout", "start", v1.path.string(), "--select", "site=a", "--batch", "2", "--dry-run"});
    CHECK_MESSAGE(plan.code == 0, plan.output);
    CHECK_MESSAGE(plan.has("rollout plan: 4 agent(s), echo 1.0.0, canary 1, batches of 2"),
                  plan.output);
    CHECK(fleet.rig->client->messages("lucid/agents/ro-1/desired").empty());  // nothing written

    auto first = fleet.rig->ctl({"rollout", "start", v1.path.string(), "--select", "site=a",
                                 "--batch", "2", "--timeout", "60"});
    CHECK_MESSAGE(first.code == 0, first.output);
    CHECK(first.has("converged (4 converged, 0 failed, 0 pending, 0 skipped, 0 rolled back)"));
    for (std::size_t i = 0; i < 4; ++i) CHECK(fleet.rig->desired_version(i) == "1.0.0");
    CHECK(fleet.rig->client->messages("lucid/agents/ro-5/desired").empty());  // not selected

    // 3.0.0 fails its start: the canary fails, nothing else is touched, the canary gets its
    // previous desired state (1.0.0) back.
    auto bad = fleet.rig->ctl(
        {"rollout", "start", v3.path.string(), "--select", "site=a", "--timeout", "60"});
    CHECK_MESSAGE(bad.code == 1, bad.output);
    CHECK(bad.has("1 failure(s), more than --max-failures 0: stopping"));
    CHECK(bad.has("ro-1 rolled back to its desired state before the rollout"));
    CHECK(fleet.rig->desired_version(0) == "1.0.0");
    CHECK(fleet.rig->desired_version(1) == "1.0.0");
    CHECK(fleet.rig->converged(0, "1.0.0"));

    // The failure's reason stays beside its rollback.
    CHECK(bad.has("0 converged, 1 failed, 0 pending, 0 skipped, 1 rolled back"));
    // A rollout id is a plain topic level, never a wildcard.
    auto wildcard = fleet.rig->ctl({"rollout", "status", "#"});
    CHECK(wildcard.code == 2);
    CHECK(wildcard.has("'#' is not a rollout id"));
    auto list = fleet.rig->ctl({"rollout", "list"});
    CHECK(list.code == 0);
    CHECK(list.has("converged"));
    CHECK(list.has("failed"));
}

TEST_CASE("rollout: offline agents are pending and converge when they return; Ctrl-C pauses") {
    Fleet fleet({{"rp-1", "role=gw"}, {"rp-2", "role=gw"}, {"rp-3", "role=gw"}});
    const Artifact v1 = artifact(LUCID_ITEST_ECHO_1_0);
    REQUIRE(fleet.rig->agent(2).stop(SIGTERM) == 0);

    auto run = fleet.rig->ctl({"rollout", "start", v1.path.string(), "--select", "role=gw",
                               "--batch", "1", "--timeout", "3"});
    CHECK_MESSAGE(run.code == 4, run.output);
    CHECK(run.has("still pending: rp-3"));
    const auto named = run.output.rfind("rollout r");
    REQUIRE(named != std::string::npos);
    const std::string pending_id =
        run.output.substr(named + 8, run.output.find(':', named) - (named + 8));
    auto pending_status = fleet.rig->ctl({"rollout", "status", pending_id});
    CHECK_MESSAGE(pending_status.has("rp-3: pending (offline; its document waits)"),
                  pending_status.output);
    fleet.rig->restart(2);
    CHECK_MESSAGE(fleet.rig->converged(2, "1.0.0"), fleet.rig->agent(2).log());

    // Interrupted after its canary: paused, retained; resume finishes it.
    const Artifact v2 = artifact(LUCID_ITEST_ECHO_2_0);
    Process lucidctl;
    TempDir dir;
    fleet.rig->client->clear();
    fleet.rig->start_ctl(lucidctl,
                         {"rollout", "start", v2.path.string(), "--select", "role=gw", "--batch",
                          "1", "--timeout", "60"},
                         dir.path() / "lucidctl.log");
    auto after_canary = fleet.rig->rollout_after(1, std::chrono::seconds(30));
    REQUIRE_MESSAGE(after_canary, lucidctl.log());
    const std::string id = after_canary->str("id");
    lucidctl.signal(SIGINT);
    CHECK(lucidctl.wait_exit(std::chrono::seconds(10)) == 130);
    CHECK(lucidctl.log().find("paused; continue with: lucidctl rollout resume " + id) !=
          std::string::npos);
    auto status = fleet.rig->ctl({"rollout", "status", id});
    CHECK(status.has(": paused,"));

    auto resumed = fleet.rig->ctl({"rollout", "resume", id, "--timeout", "60"});
    CHECK_MESSAGE(resumed.code == 0, resumed.output);
    for (std::size_t i = 0; i < 3; ++i) CHECK(fleet.rig->desired_version(i) == "2.0.0");
    // An overlapping rollout while one is active is refused; this one is finished.
    auto again = fleet.rig->ctl({"rollout", "resume", id});
    CHECK(again.code == 2);
    CHECK(again.has("is converged: nothing to resume"));
}

TEST_CASE("rollout on a terminal: bars redrawn in place, no routine lines; plain lines otherwise") {
    Fleet fleet({{"rt-1", "tty=y"}, {"rt-2", "tty=y"}, {"rt-3", "tty=y"}});
    const Artifact v1 = artifact(LUCID_ITEST_ECHO_1_0);
    // script(1) gives lucidctl a pseudo-terminal, as an operator's shell does.
    const std::string command = std::string(LUCIDCTL_BIN) + " rollout start '" + v1.path.string() +
                                "' --select tty=y --batch 1 --timeout 60";
    auto [code, output] = run_to_completion({"/usr/bin/script", "-qec", command, "/dev/null"},
                                            {{"LUCID_MQTT_URL", fleet.broker.url()},
                                             {"LUCID_ENV_FILE", "/dev/null"},
                                             {"TERM", "xterm"},
                                             {"PATH", "/usr/bin:/bin"}});
    CHECK_MESSAGE(code == 0, output);
    CHECK_MESSAGE(has_text(output, "\x1b[J"), output);  // the block redrawn in place
    CHECK_MESSAGE(has_text(output, "batch 3/3"), output);
    CHECK_MESSAGE(has_text(output, "3 agent(s): 3 converged, 0 failed"), output);
    CHECK_MESSAGE(has_text(output, "converged (3 converged, 0 failed"), output);
    CHECK_FALSE(has_text(output, "writing revision"));  // shown by the bars instead

    // Not a terminal: the plain lines a script reads, as before.
    const Artifact v2 = artifact(LUCID_ITEST_ECHO_2_0);
    auto plain =
        fleet.rig->ctl({"rollout", "start", v2.path.string(), "--select", "tty=y", "--batch", "1"});
    CHECK_MESSAGE(plain.code == 0, plain.output);
    CHECK(plain.has("writing revision"));
    CHECK_FALSE(plain.has("\x1b["));
}

TEST_CASE("rollout abort leaves alone an agent whose desired state changed after the rollout") {
    Fleet fleet({{"ra-1", "ab=y"}, {"ra-2", "ab=y"}});
    const Artifact v1 = artifact(LUCID_ITEST_ECHO_1_0);
    Process lucidctl;
    TempDir dir;
    fleet.rig->start_ctl(lucidctl,
                         {"rollout", "start", v1.path.string(), "--select", "ab=y", "--batch", "1",
                          "--timeout", "60"},
                         dir.path() / "lucidctl.log");
    auto after_canary = fleet.rig->rollout_after(1, std::chrono::seconds(30));
    REQUIRE_MESSAGE(after_canary, lucidctl.log());
    const std::string id = after_canary->str("id");
    const std::string canary = after_canary->json()["batches"][0][0].GetString();
    lucidctl.signal(SIGHUP);  // the operator's terminal closed: paused, like Ctrl-C
    CHECK(lucidctl.wait_exit(std::chrono::seconds(10)) == 130);
    CHECK(fleet.rig->ctl({"rollout", "status", id}).has(": paused,"));

    // The operator then changes the canary by hand; an abort must not undo that.
    const auto file = dir.path() / "mine.json";
    std::ofstream(file) << R"({"components":{}})";
    auto mine = fleet.rig->ctl({"--agent", canary, "desired", "set", file.string()});
    REQUIRE_MESSAGE(mine.code == 0, mine.output);
    const auto before = fleet.rig->client->messages("lucid/agents/" + canary + "/desired");
    REQUIRE_FALSE(before.empty());
    auto abort = fleet.rig->ctl({"rollout", "abort", id});
    CHECK_MESSAGE(abort.has(canary + " not rolled back: its desired state changed after this "
                                     "rollout wrote it (now revision "),
                  abort.output);
    auto status = fleet.rig->ctl({"--agent", canary, "desired", "get"});
    CHECK_MESSAGE(status.has(R"("components":{})"), status.output);  // still the operator's
}

TEST_CASE("rollout abort takes an agent back below the version the rollout committed on it") {
    Fleet fleet({{"rf-1", "fl=y"}, {"rf-2", "fl=y"}});
    const Artifact v1 = artifact(LUCID_ITEST_ECHO_1_0);
    const Artifact v2 = artifact(LUCID_ITEST_ECHO_2_0);
    auto first = fleet.rig->ctl(
        {"rollout", "start", v1.path.string(), "--select", "fl=y", "--timeout", "60"});
    REQUIRE_MESSAGE(first.code == 0, first.output);

    Process lucidctl;
    TempDir dir;
    fleet.rig->client->clear();
    fleet.rig->start_ctl(lucidctl,
                         {"rollout", "start", v2.path.string(), "--select", "fl=y", "--batch", "1",
                          "--timeout", "60"},
                         dir.path() / "lucidctl.log");
    auto after_canary = fleet.rig->rollout_after(1, std::chrono::seconds(30));
    REQUIRE_MESSAGE(after_canary, lucidctl.log());
    const std::string id = after_canary->str("id");
    const std::string canary = after_canary->json()["batches"][0][0].GetString();
    const std::size_t index = canary == "rf-1" ? 0 : 1;
    lucidctl.signal(SIGINT);
    CHECK(lucidctl.wait_exit(std::chrono::seconds(10)) == 130);
    // The canary runs 2.0.0, past its health window: committed, for everything but this
    // rollout's abort.
    CHECK(fleet.rig->converged(index, "2.0.0"));
    const auto written = fleet.rig->client->messages("lucid/agents/" + canary + "/desired");
    REQUIRE_FALSE(written.empty());
    CHECK(written.back().str("rollout") == id);

    fleet.rig->client->clear();
    auto abort = fleet.rig->ctl({"rollout", "abort", id});
    CHECK_MESSAGE(abort.has(canary + " rolled back to its desired state before the rollout"),
                  abort.output);
    const auto rollback = fleet.rig->client->messages("lucid/agents/" + canary + "/desired");
    REQUIRE_FALSE(rollback.empty());
    CHECK(rollback.back().str("rollback_of") == id);
    CHECK(rollback.back().str("rollout").empty());
    CHECK_MESSAGE(fleet.rig->converged(index, "1.0.0"), fleet.rig->agent(index).log());
}
