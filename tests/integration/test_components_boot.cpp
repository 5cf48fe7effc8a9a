// The boot with several installed plugins (issue 21 item 3): they start in parallel before the
// first connection, every one comes up running with its subscriptions working, and each
// component's retained snapshots are published once after the boot, in its final state (no
// `starting` queued from before the connection, contract §6.1).
#include <doctest/doctest.h>

#include <signal.h>

#include <cstdlib>
#include <map>
#include <thread>

#include "component_rig.hpp"

using namespace lucid::itest;

namespace {

// component id → the built plugin that declares it.
const std::map<std::string, const char*> kBootPlugins = {
    {"probe", LUCID_ITEST_PROBE},
    {"echo", LUCID_ITEST_ECHO_1_0},
    {"msgprobe", LUCID_ITEST_MSG},
    {"logprobe", LUCID_ITEST_LOG_PROBE},
};

// A subscription of each subscribing plugin delivers, and echo answers its command.
void check_boot_subscriptions(ComponentRig& rig) {
    MqttClient outside(rig.broker.port());
    outside.publish("itest/sensors/boot/temp", "20.5");
    auto event = rig.client->wait_for(
        rig.agent.topic("components/probe/evt/temp"),
        [](const Message& m) { return m.str("correlation_id") == "itest/sensors/boot/temp"; });
    CHECK_MESSAGE(event, rig.agent.log());
    for (int i = 0; i < 3; ++i) outside.publish("itest/msg/a", "x");
    // The counts command runs on the plugin's worker after the three messages it queued.
    auto counts =
        rig.plugin_command("msgprobe", "counts", R"({"request_id":"boot-counts"})", "boot-counts");
    REQUIRE_MESSAGE(counts, rig.agent.log());
    CHECK(has_text(counts->payload, R"("a":3)"));
    rig.echo_answers("boot-echo");
}

// The start marker of `cid` ({data}/starting/{cid}) holds `"deaths":<deaths>` within `timeout`:
// that start runs now (the marker a death left behind is consumed before anything starts).
bool boot_marker_within(const ComponentRig& rig, const std::string& cid, int deaths,
                        std::chrono::milliseconds timeout) {
    const std::filesystem::path marker = rig.data() / "starting" / cid;
    const std::string counted = "\"deaths\":" + std::to_string(deaths) + "}";
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        try {
            if (read_bytes(marker).find(counted) != std::string::npos) return true;
        } catch (const std::exception&) {
            // Not there yet, or being replaced (rename) right now.
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));  // polling a file, not time
    }
    return false;
}

}  // namespace

TEST_CASE("a boot starts every installed plugin, subscribed, and publishes each snapshot once") {
    ComponentRig rig("boot-plugins");
    rig.start_agent();
    int n = 0;
    for (const auto& [cid, path] : kBootPlugins) {
        auto installed =
            rig.install("boot-i" + std::to_string(++n), cid, inline_source(artifact(path)));
        REQUIRE_MESSAGE(ok_of(installed), installed.payload);
        REQUIRE(rig.wait_status(cid, "running"));
    }

    // The boot under test: a restart with the four installed.
    REQUIRE(rig.agent.stop(SIGTERM) == 0);
    REQUIRE(rig.client->wait_for(rig.agent.topic("status"),
                                 [](const Message& m) { return m.str("state") == "offline"; }));
    rig.client->clear();
    rig.start_agent();
    for (const auto& [cid, path] : kBootPlugins) {
        auto running = rig.wait_status(cid, "running");
        REQUIRE_MESSAGE(running, cid << "\n" << rig.agent.log());
        CHECK(running->json()["error"].IsNull());
    }
    check_boot_subscriptions(rig);

    // Everything the boot published has arrived once a command sent after it is answered.
    rig.ping("boot-ping");
    for (const auto& [cid, path] : kBootPlugins) {
        CAPTURE(cid);
        const auto statuses =
            rig.client->messages(rig.agent.topic("components/" + cid + "/status"));
        REQUIRE(statuses.size() == 1);
        CHECK(statuses[0].str("state") == "running");
        CHECK(rig.client->messages(rig.agent.topic("components/" + cid + "/cfg/state")).size() ==
              1);
    }

    // The retained snapshots after the boot: each component running, in core/components too.
    MqttClient late(rig.broker.port());
    late.subscribe(rig.agent.topic("#"));
    auto components = late.wait_for(rig.agent.topic("core/components"), any_message());
    REQUIRE(components);
    auto doc = components->json();
    CHECK(doc["count"].GetUint() == kBootPlugins.size());
    for (const auto& [cid, path] : kBootPlugins) {
        CAPTURE(cid);
        auto status =
            late.wait_for(rig.agent.topic("components/" + cid + "/status"), any_message());
        REQUIRE(status);
        CHECK(status->retain);
        CHECK(status->str("state") == "running");
        REQUIRE(doc["components"].HasMember(cid.c_str()));
        CHECK(std::string(doc["components"][cid.c_str()]["state"].GetString()) == "running");
        CHECK(late.wait_for(rig.agent.topic("components/" + cid + "/cfg/state"), any_message()));
    }
    auto state = late.wait_for(rig.agent.topic("core/state"), any_message());
    REQUIRE(state);
    CHECK(state->json()["components_failed"].GetUint() == 0);
}

TEST_CASE("after a death nobody can be blamed for, the components that were starting start alone") {
    // The gate reaches a plugin through the agent's environment, which a child's is not.
    if (const char* isolation = std::getenv("LUCID_TEST_ISOLATION");
        isolation && std::string(isolation) == "process") {
        MESSAGE("in-process plugins only: the start gate is the agent's environment");
        return;
    }
    ComponentRig rig("boot-suspects");
    const std::filesystem::path gate = rig.agent.data_dir() / "start-gate";
    rig.env["LUCID_ITEST_START_GATE"] = gate.string();
    rig.start_agent();
    REQUIRE(ok_of(rig.install("bs-1", "slow", inline_source(artifact(LUCID_ITEST_SLOW_START)))));
    REQUIRE(ok_of(rig.install("bs-2", "slowb", inline_source(artifact(LUCID_ITEST_SLOW_START_B)))));
    REQUIRE(ok_of(rig.install("bs-3", "echo", inline_source(artifact(LUCID_ITEST_ECHO_1_0)))));
    REQUIRE(rig.agent.stop(SIGTERM) == 0);

    // A boot held up by both slow starts at once (a parallel boot, given two cores), then a
    // power cut: both were starting.
    write_bytes(gate, "");
    rig.agent.start(rig.env);
    REQUIRE_MESSAGE(boot_marker_within(rig, "slow", 0, std::chrono::seconds(20)), rig.agent.log());
    if (std::thread::hardware_concurrency() >= 2) {
        // Within less than slow's 10 s start timeout, after which a one-at-a-time boot would
        // start slowb too.
        REQUIRE_MESSAGE(boot_marker_within(rig, "slowb", 0, std::chrono::seconds(5)),
                        rig.agent.log());
    } else {
        // One core: one start at a time; slowb may not be starting yet.
        MESSAGE("one core: the parallel boot is not checked");
    }
    rig.agent.stop(SIGKILL);

    // The next boot starts the suspects first, one at a time: while slow is held up, neither
    // slowb nor echo starts.
    rig.agent.start(rig.env);
    REQUIRE_MESSAGE(boot_marker_within(rig, "slow", 1, std::chrono::seconds(20)), rig.agent.log());
    CHECK_FALSE(boot_marker_within(rig, "slowb", 1, std::chrono::seconds(1)));
    CHECK_FALSE(std::filesystem::exists(rig.data() / "starting" / "echo"));
    rig.client->clear();
    std::filesystem::remove(gate);
    auto online = wait_online(*rig.client, rig.agent, rig.session);
    REQUIRE_MESSAGE(online, rig.agent.log());
    rig.session = session_of(*online);
    for (const char* cid : {"slow", "slowb", "echo"}) {
        CAPTURE(cid);
        CHECK_MESSAGE(rig.wait_status(cid, "running", "1.0.0"), rig.agent.log());
    }
    // Nothing was quarantined or moved: one death is no proof.
    CHECK_FALSE(has_text(registry_entry(rig.registry(), "slow"), "demoted"));
    CHECK_FALSE(has_text(registry_entry(rig.registry(), "slowb"), "demoted"));
}
