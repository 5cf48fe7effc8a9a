// Crash quarantine and demotion (issue 13 Critical #2, issue 14 #8, issue 17 #5): a plugin whose
// code takes the agent down — in start() or in any later callback — is named by the agent's
// fatal-signal handler. At the next start, which comes online the first time, a registered
// component runs on in process isolation (`demoted: true`, `demoted_because: crashed: <SIGNAL> in
// <callback>`), where it can crash no more than itself; an install that never registered is
// installed in process isolation too and answered ok:true, demoted:true, from MQTT or the drop-in
// directory (an upgrade is rolled back instead: the previous version runs again,
// rolled_back:true). A
// death nobody can be blamed for (SIGKILL, a power cut while a component starts) counts only
// when it happened LUCID_START_DEATHS_BEFORE_QUARANTINE times in a row. Every death here is the
// real agent process killed by the real signal.
#include <doctest/doctest.h>

#include <signal.h>

#include <thread>

#include "component_rig.hpp"

using namespace lucid::itest;
namespace fs = std::filesystem;

namespace {

// Waits for the agent to die (by the plugin's hand) and returns its exit status.
int died(ComponentRig& rig) {
    const auto status = rig.agent.process().wait_exit(std::chrono::seconds(30));
    REQUIRE_MESSAGE(status, rig.agent.log());
    return *status;
}

// The first components/{cid}/status since the last clear running in process isolation, moved
// there by the agent because of `why`.
void check_demoted(ComponentRig& rig, const std::string& cid, const std::string& why) {
    auto status = rig.client->wait_for(
        rig.agent.topic("components/" + cid + "/status"), [](const Message& m) {
            return m.str("state") == "running" && m.str("isolation") == "process";
        });
    REQUIRE_MESSAGE(status, rig.agent.log());
    CHECK(flag_of(*status, "demoted"));
    CHECK(status->str("demoted_because") == why);
    const rapidjson::Document registry = rig.registry();
    const auto& entry = registry["components"][cid.c_str()];
    CHECK(entry["enabled"].GetBool());
    CHECK(std::string(entry["isolation"].GetString()) == "process");
    CHECK(std::string(entry["demoted"].GetString()) == why);
}

// Copies a file into a directory the way the README says (a .part renamed in place).
void drop_in(const fs::path& dir, const Artifact& a) {
    fs::create_directories(dir);
    write_bytes(dir / (a.name + ".part"), a.bytes);
    fs::rename(dir / (a.name + ".part"), dir / a.name);
}

// Waits (bounded) until the agent's start marker of `cid` says it is starting with `deaths`
// deaths counted before: this start, not the marker the last death left behind. With none
// counted yet there is no marker before (any format will do).
bool wait_starting(const ComponentRig& rig, const std::string& cid, int deaths) {
    const fs::path marker = rig.data() / "starting" / cid;
    const std::string counted = "\"deaths\":" + std::to_string(deaths) + "}";
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    // The agent replaces the marker by rename: between exists() and the read it may be gone.
    auto counted_in_marker = [&] {
        try {
            return read_bytes(marker).find(counted) != std::string::npos;
        } catch (const std::exception&) {
            return false;
        }
    };
    while (!fs::exists(marker) || (deaths > 0 && !counted_in_marker())) {
        if (std::chrono::steady_clock::now() >= deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));  // polling a file, not time
    }
    return true;
}

}  // namespace

TEST_CASE("a drop-in plugin that crashes in start: online at the first restart, in a child") {
    const Artifact crash = artifact(LUCID_ITEST_CRASH);
    ComponentRig rig("cq-dropin");
    const fs::path dropins = rig.data() / "plugins.d";
    drop_in(dropins, crash);

    rig.agent.start(rig.env);
    CHECK(died(rig) == 128 + SIGABRT);

    // The first restart comes online with the component installed in process isolation, where
    // it crashes in its start again: failed, and the agent with it no more.
    rig.client->clear();
    rig.start_agent();
    auto failed = rig.wait_status("crash", "failed");
    REQUIRE_MESSAGE(failed, rig.agent.log());
    CHECK(has_text(failed->str("error"), "crashed: SIGABRT in start"));
    CHECK(failed->str("isolation") == "process");
    CHECK(flag_of(*failed, "demoted"));
    CHECK(failed->str("demoted_because") == "crashed: SIGABRT in start");
    const std::string entry = registry_entry(rig.registry(), "crash");
    CHECK(has_text(entry, R"("isolation":"process")"));
    CHECK(has_text(entry, R"("demoted":"crashed: SIGABRT in start")"));
    CHECK(fs::exists(dropins / crash.name));
    CHECK(ok_of(rig.ping("cq-d-ping")));
    // Nobody asked for this install, but it has its audit line like any other.
    CHECK_MESSAGE(rig.agent.log().find("audit: op=install component=crash source='dropin " +
                                       (dropins / crash.name).string() + "'") != std::string::npos,
                  rig.agent.log());
    // What lucidctl reads later, connecting now: the retained status says failed, not the
    // `starting` the crashed agent left.
    MqttClient later(rig.broker.port());
    later.subscribe(rig.agent.topic("components/crash/status"));
    auto retained = later.wait_for(rig.agent.topic("components/crash/status"),
                                   [](const Message& m) { return m.retain; });
    REQUIRE(retained);
    CHECK(retained->str("state") == "failed");

    // The next starts start it in its child again: still online.
    REQUIRE(rig.agent.stop(SIGTERM) == 0);
    rig.client->clear();
    rig.start_agent();
    auto again = rig.wait_status("crash", "failed");
    REQUIRE_MESSAGE(again, rig.agent.log());
    CHECK(again->str("isolation") == "process");
    CHECK(ok_of(rig.ping("cq-d-ping-2")));

    // Removing the file uninstalls it (the drop-in directory owns it).
    fs::remove(dropins / crash.name);
    CHECK(rig.client->wait_for(rig.agent.topic("components/crash/status"),
                               [](const Message& m) { return m.payload.empty(); }));
}

TEST_CASE("an MQTT install that crashes in start is installed in a child: ok:true, demoted") {
    const Artifact crash = artifact(LUCID_ITEST_CRASH_ONCE);
    ComponentRig rig("cq-install");
    rig.start_agent();
    const std::string marker = (rig.agent.data_dir() / "crashed-once").string();
    rig.client->publish(rig.agent.topic("core/cmd/components/install"),
                        install_payload("cq-i-1", "crashonce", inline_source(crash),
                                        R"(,"config":{"marker":)" + json_string(marker) + "}"));
    CHECK(died(rig) == 128 + SIGABRT);

    rig.start_agent();
    auto answer = rig.client->wait_for(rig.agent.topic("core/evt/components/install_result"),
                                       with_request_id("cq-i-1"));
    REQUIRE_MESSAGE(answer, rig.agent.log());
    CHECK_MESSAGE(ok_of(*answer), answer->payload);
    CHECK(answer->str("isolation") == "process");
    CHECK(flag_of(*answer, "demoted"));
    CHECK(answer->str("demoted_because") == "crashed: SIGABRT in start");
    CHECK_FALSE(flag_of(*answer, "rolled_back"));
    CHECK(answer->str("component_id") == "crashonce");
    CHECK(answer->str("version") == "1.0.0");
    // It runs there (its second start does not crash), with its config.
    auto running = rig.wait_status("crashonce", "running", "1.0.0");
    REQUIRE_MESSAGE(running, rig.agent.log());
    CHECK(running->str("isolation") == "process");
    CHECK(flag_of(*running, "demoted"));
    const std::string entry = registry_entry(rig.registry(), "crashonce");
    CHECK(has_text(entry, R"("isolation":"process")"));
    CHECK(has_text(entry, "crashed-once"));
    CHECK_MESSAGE(rig.agent.log().find("audit: op=install component=crashonce "
                                       "request_id='cq-i-1' from=none to=1.0.0 outcome=ok") !=
                      std::string::npos,
                  rig.agent.log());

    // The answer is recorded: the same request_id again gets it, and nothing runs again.
    rig.client->clear();
    auto again = rig.install(install_payload("cq-i-1", "crashonce", inline_source(crash),
                                             R"(,"config":{"marker":)" + json_string(marker) + "}"),
                             "cq-i-1");
    CHECK(again.payload == answer->payload);
    CHECK(ok_of(rig.ping("cq-i-ping")));
}

TEST_CASE("an upgrade that crashes in start: the previous version runs, rolled_back:true") {
    const Artifact v1 = artifact(LUCID_ITEST_ECHO_1_0);
    const Artifact v4 = artifact(LUCID_ITEST_ECHO_4_0_CRASHES);
    ComponentRig rig("cq-upgrade");
    rig.start_agent();
    REQUIRE(ok_of(rig.install("cq-u-1", "echo", inline_source(v1))));
    rig.client->publish(rig.agent.topic("core/cmd/components/install"),
                        install_payload("cq-u-4", "echo", inline_source(v4)));
    CHECK(died(rig) == 128 + SIGABRT);

    rig.client->clear();
    rig.start_agent();
    auto answer = rig.client->wait_for(rig.agent.topic("core/evt/components/install_result"),
                                       with_request_id("cq-u-4"));
    REQUIRE_MESSAGE(answer, rig.agent.log());
    CHECK_FALSE(ok_of(*answer));
    CHECK(flag_of(*answer, "rolled_back"));
    CHECK(error_of(*answer) == "crashed: SIGABRT in start");
    CHECK(answer->str("version") == "4.0.0");
    CHECK(rig.wait_status("echo", "running", "1.0.0"));
    rig.echo_answers("cq-u-echo");
    CHECK(rig.registry()["components"]["echo"]["version"].GetString() == std::string("1.0.0"));
    CHECK_FALSE(fs::exists(rig.data() / "components" / "lucid-agent-echo" / "4.0.0"));
}

TEST_CASE("a plugin that crashes later is blamed with its callback: command, timer, stop") {
    const Artifact crashy = artifact(LUCID_ITEST_CRASH_LATER);
    const Artifact echo = artifact(LUCID_ITEST_ECHO_1_0);
    ComponentRig rig("cq-later");
    rig.start_agent();
    REQUIRE(ok_of(rig.install("cq-l-echo", "echo", inline_source(echo))));
    REQUIRE(ok_of(rig.install("cq-l-1", "crashy", inline_source(crashy))));

    struct Case {
        std::string trigger;  // the plugin command that sets the crash up (or is it)
        int signo;
        std::string error;
    };
    const Case cases[] = {
        {"boom", SIGSEGV, "crashed: SIGSEGV in command 'boom'"},
        {"arm_timer", SIGILL, "crashed: SIGILL in timer"},
        {"arm_stop", SIGABRT, "crashed: SIGABRT in stop"},
    };
    int round = 0;
    for (const auto& c : cases) {
        CAPTURE(c.trigger);
        ++round;
        rig.client->publish(rig.agent.topic("components/crashy/cmd/" + c.trigger),
                            R"({"request_id":"cq-l-t)" + std::to_string(round) + "\"}");
        if (c.trigger == "arm_stop") {
            REQUIRE(rig.client->wait_for(rig.agent.topic("components/crashy/evt/arm_stop_result"),
                                         with_request_id("cq-l-t" + std::to_string(round))));
            rig.agent.process().signal(SIGTERM);  // stop() runs at the shutdown
        }
        CHECK(died(rig) == 128 + c.signo);

        // Back online at once; the component runs on in a child process, the others run.
        rig.client->clear();
        rig.start_agent();
        check_demoted(rig, "crashy", c.error);
        CHECK(rig.wait_status("echo", "running", "1.0.0"));
        CHECK(rig.client->wait_for(rig.agent.topic("core/components"),
                                   [&](const Message& m) { return has_text(m.payload, c.error); }));

        // It stays so across restarts, until the operator moves it back.
        REQUIRE(rig.agent.stop(SIGTERM) == 0);
        rig.client->clear();
        rig.start_agent();
        check_demoted(rig, "crashy", c.error);
        auto back =
            rig.command("core/cmd/components/configure", "core/evt/components/configure_result",
                        R"({"request_id":"cq-l-back-)" + std::to_string(round) +
                            R"(","component_id":"crashy","isolation":"in_process"})",
                        "cq-l-back-" + std::to_string(round));
        REQUIRE_MESSAGE(ok_of(back), back.payload);
        auto in_process =
            rig.client->wait_for(rig.agent.topic("components/crashy/status"), [](const Message& m) {
                return m.str("state") == "running" && m.str("isolation") == "in_process";
            });
        REQUIRE(in_process);
        CHECK_FALSE(flag_of(*in_process, "demoted"));
    }
}

TEST_CASE("deaths while a component starts move it into a child only when repeated (issue 14 #8)") {
    const Artifact slow = artifact(LUCID_ITEST_SLOW_START);
    const Artifact echo = artifact(LUCID_ITEST_ECHO_1_0);
    ComponentRig rig("cq-deaths");
    const fs::path gate = rig.agent.data_dir() / "start-gate";
    rig.env["LUCID_ITEST_START_GATE"] = gate.string();
    rig.start_agent();
    REQUIRE(ok_of(rig.install("cq-s-1", "slow", inline_source(slow))));
    REQUIRE(ok_of(rig.install("cq-s-echo", "echo", inline_source(echo))));
    REQUIRE(rig.agent.stop(SIGTERM) == 0);

    // A power cut while it starts, then a normal start: it runs, nothing is quarantined.
    write_bytes(gate, "");
    rig.agent.start(rig.env);
    REQUIRE_MESSAGE(wait_starting(rig, "slow", 0), rig.agent.log());
    rig.agent.stop(SIGKILL);
    fs::remove(gate);
    rig.client->clear();
    rig.start_agent();
    CHECK_MESSAGE(rig.wait_status("slow", "running", "1.0.0"), rig.agent.log());
    CHECK(rig.registry()["components"]["slow"]["enabled"].GetBool());
    REQUIRE(rig.agent.stop(SIGTERM) == 0);

    // Killed while starting it three times in a row (the default): demoted, the rest runs.
    write_bytes(gate, "");
    for (int death = 1; death <= 3; ++death) {
        CAPTURE(death);
        rig.agent.start(rig.env);
        REQUIRE_MESSAGE(wait_starting(rig, "slow", death - 1), rig.agent.log());
        rig.agent.stop(SIGKILL);
    }
    fs::remove(gate);
    rig.client->clear();
    rig.start_agent();
    check_demoted(rig, "slow", "the agent died 3 times in a row while this component was starting");
    CHECK(rig.wait_status("echo", "running", "1.0.0"));
}

TEST_CASE("the deaths before a component is moved into a child are a setting") {
    const Artifact slow = artifact(LUCID_ITEST_SLOW_START);
    ComponentRig rig("cq-setting");
    const fs::path gate = rig.agent.data_dir() / "start-gate";
    rig.env["LUCID_ITEST_START_GATE"] = gate.string();
    rig.env["LUCID_START_DEATHS_BEFORE_QUARANTINE"] = "1";
    rig.start_agent();
    REQUIRE(ok_of(rig.install("cq-x-1", "slow", inline_source(slow))));
    REQUIRE(rig.agent.stop(SIGTERM) == 0);

    write_bytes(gate, "");
    rig.agent.start(rig.env);
    REQUIRE_MESSAGE(wait_starting(rig, "slow", 0), rig.agent.log());
    rig.agent.stop(SIGKILL);
    fs::remove(gate);
    rig.client->clear();
    rig.start_agent();
    check_demoted(rig, "slow", "the agent died 1 time in a row while this component was starting");
}
