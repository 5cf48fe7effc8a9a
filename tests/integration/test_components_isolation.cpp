// Process isolation (README "Process isolation", contract §4.13): a component in a
// lucid-plugin-runner child crashes, hangs or eats memory, and the agent — its MQTT session,
// its Will, its other components — never notices: the child is reported, restarted with
// backoff, quarantined after three crashes, killed over its limit or when stuck, and stop and
// uninstall never need restart_required. The plugin API suites run in both runtimes too
// (CMakeLists.txt: the *_process variants).
#include <doctest/doctest.h>

#include "component_rig.hpp"
#include "runner_processes.hpp"

using namespace lucid::itest;

namespace {

const std::string kProcess = R"(,"isolation":"process")";

struct IsolationRig : ComponentRig {
    explicit IsolationRig(const std::string& agent_id) : ComponentRig(agent_id) {
        env["LUCID_PLUGIN_STALL_S"] = "1";
        start_agent();
        REQUIRE(
            ok_of(install("install-echo", "echo", inline_source(artifact(LUCID_ITEST_ECHO_1_0)))));
        REQUIRE(wait_status("echo", "running", "1.0.0"));
    }

    Message install_isolated(const std::string& cid, const char* file,
                             const std::string& extra = kProcess) {
        return install(install_payload("install-" + cid, cid, inline_source(artifact(file)), extra),
                       "install-" + cid);
    }

    Message configure(const std::string& payload, const std::string& request_id) {
        return command("core/cmd/components/configure", "core/evt/components/configure_result",
                       payload, request_id);
    }

    // The agent stayed online in one session the whole time: no Will, no new session.
    void check_same_session() {
        auto pong = ping("ping-after");
        CHECK(ok_of(pong));
        for (const auto& status : client->messages(agent.topic("status"))) {
            CHECK_MESSAGE(status.str("state") != "offline", status.payload);
            CHECK(session_of(status) == session);
        }
        CHECK(agent.process().running());
    }

    // Every components/{cid}/status seen so far.
    std::vector<Message> statuses(const std::string& cid) {
        return client->messages(agent.topic("components/" + cid + "/status"));
    }
};

std::uint64_t restarts_of(const Message& status) {
    auto doc = status.json();
    return doc.HasMember("restarts") && doc["restarts"].IsUint64() ? doc["restarts"].GetUint64()
                                                                   : 0;
}

}  // namespace

TEST_CASE(
    "a plugin crashing in process isolation is restarted, then quarantined; the agent "
    "never notices") {
    IsolationRig rig("iso-crash");
    auto installed = rig.install_isolated("crashloop", LUCID_ITEST_CRASH_LOOP);
    CHECK_MESSAGE(ok_of(installed), installed.payload);

    // It dies 50 ms after each start; restarted at once, then after 100 ms; the third crash
    // within ten minutes quarantines it.
    auto quarantined = rig.client->wait_for(
        rig.agent.topic("components/crashloop/status"),
        [](const Message& m) { return m.str("error").rfind("quarantined: ", 0) == 0; },
        std::chrono::seconds(20));
    REQUIRE_MESSAGE(quarantined, rig.agent.log());
    CHECK(has_text(quarantined->str("error"),
                   "quarantined: crashed 3 times in 10 minutes (last: crashed: SIGSEGV in timer "
                   "callback); enable or re-install it to try again"));
    CHECK(quarantined->str("state") == "failed");
    CHECK(quarantined->str("isolation") == "process");

    int crashed = 0;
    std::uint64_t most_restarts = 0;
    for (const auto& status : rig.statuses("crashloop")) {
        if (status.str("state") == "failed" &&
            status.str("error") == "crashed: SIGSEGV in timer callback") {
            ++crashed;
        }
        most_restarts = std::max(most_restarts, restarts_of(status));
    }
    CHECK(crashed == 2);  // the third is the quarantine
    CHECK(most_restarts == 2);

    // Kept out, as a boot quarantine is: disabled in the registry, not started again.
    CHECK(has_text(registry_entry(rig.registry(), "crashloop"), R"("enabled":false)"));
    CHECK(runners_of(rig.agent.process().pid()).empty());
    rig.echo_answers("echo-after");
    rig.check_same_session();
    CHECK(
        rig.agent.wait_for_log("component crashloop (process isolation) crashed: SIGSEGV in "
                               "timer callback",
                               std::chrono::seconds(1)));
}

TEST_CASE("a command that crashes its isolated plugin is answered, and the plugin runs again") {
    IsolationRig rig("iso-boom");
    REQUIRE(ok_of(rig.install_isolated("crashy", LUCID_ITEST_CRASH_LATER)));
    REQUIRE(rig.wait_status("crashy", "running"));
    rig.client->clear();

    auto answer = rig.plugin_command("crashy", "boom", R"({"request_id":"boom-1"})", "boom-1");
    REQUIRE_MESSAGE(answer, rig.agent.log());
    CHECK_FALSE(ok_of(*answer));
    CHECK(has_text(error_of(*answer), "crashed: SIGSEGV in command callback"));

    auto failed = rig.wait_status("crashy", "failed");
    REQUIRE(failed);
    CHECK(failed->str("error") == "crashed: SIGSEGV in command callback");
    CHECK(restarts_of(*failed) == 1);
    auto again = rig.wait_status("crashy", "running");
    REQUIRE_MESSAGE(again, rig.agent.log());
    CHECK(restarts_of(*again) == 1);

    // The request that crashed it is not run twice: its answer is on record.
    auto repeated = rig.plugin_command("crashy", "boom", R"({"request_id":"boom-1"})", "boom-1");
    REQUIRE(repeated);
    CHECK(repeated->payload == answer->payload);
    rig.check_same_session();
}

TEST_CASE("an isolated plugin over its memory limit is killed and reported") {
    IsolationRig rig("iso-memory");
    auto installed = rig.install_isolated("hog", LUCID_ITEST_MEMORY_HOG,
                                          R"(,"isolation":"process","limits":{"memory_mb":200})");
    REQUIRE_MESSAGE(ok_of(installed), installed.payload);
    REQUIRE(rig.wait_status("hog", "running"));

    auto small = rig.plugin_command("hog", "grow", R"({"request_id":"g1","mb":8})", "g1");
    REQUIRE(small);
    CHECK(ok_of(*small));
    rig.client->publish(rig.agent.topic("components/hog/cmd/grow"),
                        R"({"request_id":"g2","mb":400})");
    auto killed = rig.client->wait_for(
        rig.agent.topic("components/hog/status"),
        [](const Message& m) { return m.str("error") == "limit exceeded: memory_mb=200"; });
    REQUIRE_MESSAGE(killed, rig.agent.log());
    CHECK(killed->str("state") == "failed");
    CHECK(rig.wait_status("hog", "running"));  // started again, with its memory back
    rig.check_same_session();
}

TEST_CASE("a hung isolated plugin is stopped and uninstalled without restart_required") {
    IsolationRig rig("iso-hang");
    REQUIRE(ok_of(rig.install_isolated("hang", LUCID_ITEST_HANG)));
    REQUIRE(rig.wait_status("hang", "running"));
    const auto runners = runners_of(rig.agent.process().pid());
    REQUIRE(runners.size() == 1);

    // Hangs until a file appears that never does.
    rig.client->publish(rig.agent.topic("components/hang/cmd/hang"),
                        R"({"request_id":"h1","release_file":"/nonexistent/never"})");
    REQUIRE(rig.wait_status("hang", "failed"));  // unresponsive, as in-process

    auto stopped = rig.control("stop", "hang", "stop-1");
    CHECK_MESSAGE(ok_of(stopped), stopped.payload);
    CHECK_FALSE(flag_of(stopped, "restart_required"));
    CHECK(runners_of(rig.agent.process().pid()).empty());
    CHECK(::kill(runners.front(), 0) != 0);

    REQUIRE(ok_of(rig.control("start", "hang", "start-2")));
    rig.client->publish(rig.agent.topic("components/hang/cmd/hang"),
                        R"({"request_id":"h2","release_file":"/nonexistent/never"})");
    REQUIRE(rig.wait_status("hang", "failed"));
    CHECK(std::filesystem::is_directory(rig.data() / "isolated" / "hang"));
    auto uninstalled = rig.uninstall(R"({"request_id":"u1","component_id":"hang"})", "u1");
    CHECK_MESSAGE(ok_of(uninstalled), uninstalled.payload);
    CHECK_FALSE(flag_of(uninstalled, "restart_required"));
    // Its writable directory goes with it: a later "hang" starts with nothing of this one's.
    CHECK_FALSE(std::filesystem::exists(rig.data() / "isolated" / "hang"));
    CHECK(runners_of(rig.agent.process().pid()).empty());
    rig.echo_answers("echo-after");
    rig.check_same_session();
}

TEST_CASE("plugin isolate moves a running component into a child process and back") {
    IsolationRig rig("iso-move");
    CHECK(runners_of(rig.agent.process().pid()).empty());
    rig.client->clear();

    auto moved = rig.configure(
        R"({"request_id":"c1","component_id":"echo","isolation":"process","limits":{"open_files":64}})",
        "c1");
    REQUIRE_MESSAGE(ok_of(moved), moved.payload);
    CHECK(moved.str("isolation") == "process");
    CHECK(moved.json_text("limits") == R"({"open_files":64})");
    auto status = rig.wait_status("echo", "running");
    REQUIRE(status);
    CHECK(status->str("isolation") == "process");
    auto doc = status->json();
    REQUIRE(doc.HasMember("containment"));
    for (const char* measure :
         {"process_group", "pdeathsig", "no_new_privs", "rlimit_memory", "rlimit_open_files",
          "rlimit_cpu", "run_as", "writable_dir", "landlock", "seccomp"}) {
        CHECK_MESSAGE(doc["containment"].HasMember(measure), measure);
    }
    CHECK(std::string(doc["containment"]["rlimit_open_files"].GetString()) == "applied");
    CHECK(runners_of(rig.agent.process().pid()).size() == 1);
    rig.echo_answers("echo-in-child");
    CHECK(has_text(registry_entry(rig.registry(), "echo"), R"("isolation":"process")"));

    // The same again: nothing to do.
    auto same =
        rig.configure(R"({"request_id":"c2","component_id":"echo","isolation":"process"})", "c2");
    CHECK(ok_of(same));
    CHECK(flag_of(same, "noop"));

    // Kept across a restart of the agent.
    rig.agent.stop(SIGTERM);
    rig.client->clear();
    rig.start_agent();
    auto after = rig.wait_status("echo", "running");
    REQUIRE(after);
    CHECK(after->str("isolation") == "process");
    rig.echo_answers("echo-after-restart");

    auto back = rig.configure(
        R"({"request_id":"c3","component_id":"echo","isolation":"in_process"})", "c3");
    REQUIRE(ok_of(back));
    rig.client->clear();
    rig.echo_answers("echo-back");
    CHECK(runners_of(rig.agent.process().pid()).empty());
}

TEST_CASE("an isolated plugin holds none of the agent's descriptors, nor its environment") {
    IsolationRig rig("iso-inherit");
    // The agent's own environment has LUCID_MQTT_URL, LUCID_DATA_DIR, LUCID_AGENT_ID... (the
    // harness's; a device's may hold the broker password).
    REQUIRE(ok_of(rig.install_isolated("msgprobe", LUCID_ITEST_MSG)));
    REQUIRE(rig.wait_status("msgprobe", "running"));
    // Started after the agent connected: its broker socket existed when the child was spawned,
    // and again for a child restarted after a crash.
    for (int round = 0; round < 2; ++round) {
        CAPTURE(round);
        const std::string id = "inspect-" + std::to_string(round);
        auto answer =
            rig.plugin_command("msgprobe", "inspect", R"({"request_id":")" + id + "\"}", id);
        REQUIRE_MESSAGE(answer, rig.agent.log());
        REQUIRE(ok_of(*answer));
        auto doc = answer->json();
        REQUIRE(doc["sockets"].IsArray());
        REQUIRE(doc["sockets"].Size() == 1);  // its own end of the socketpair, fd 3
        CHECK(doc["sockets"][0].GetInt() == 3);
        CHECK(doc["lucid_env"].Size() == 0);
        const auto runners = runners_of(rig.agent.process().pid());
        REQUIRE(runners.size() == 1);
        rig.client->clear();
        ::kill(runners.front(), SIGKILL);
        REQUIRE(rig.wait_status("msgprobe", "failed"));
        REQUIRE(rig.wait_status("msgprobe", "running"));
    }
    rig.check_same_session();
}

TEST_CASE("the cpu example plugin samples /proc from its child, under Landlock and seccomp") {
    IsolationRig rig("iso-cpu");
    auto installed =
        rig.install(install_payload("install-cpu", "cpu", inline_source(artifact(LUCID_ITEST_CPU)),
                                    R"(,"isolation":"process","config":{"interval_s":1})"),
                    "install-cpu");
    REQUIRE_MESSAGE(ok_of(installed), installed.payload);
    auto samples = rig.client->wait_for_count(
        rig.agent.topic("components/cpu/evt/cpu"), 2, [](const Message&) { return true; },
        std::chrono::seconds(10));
    REQUIRE_MESSAGE(samples.size() == 2, rig.agent.log());
    // The second sample has a usage: it read /proc/stat twice from inside the sandbox.
    CHECK(samples[1].json()["data"]["usage_percent"].IsNumber());
    auto status = rig.wait_status("cpu", "running");
    REQUIRE(status);
    CHECK(status->str("isolation") == "process");
    rig.check_same_session();
}

TEST_CASE("installing the same build again with other settings applies them, never ignores them") {
    IsolationRig rig("iso-reinstall");
    REQUIRE(runners_of(rig.agent.process().pid()).empty());
    auto again = rig.install(
        install_payload("reinstall-1", "echo", inline_source(artifact(LUCID_ITEST_ECHO_1_0)),
                        R"(,"isolation":"process","limits":{"open_files":64})"),
        "reinstall-1");
    REQUIRE_MESSAGE(ok_of(again), again.payload);
    CHECK_FALSE(flag_of(again, "noop"));
    CHECK(runners_of(rig.agent.process().pid()).size() == 1);
    CHECK(has_text(registry_entry(rig.registry(), "echo"), R"("open_files":64)"));
    rig.echo_answers("echo-isolated");
    // A run_as the device does not allow is refused here too, however it comes.
    auto root = rig.install(
        install_payload("reinstall-2", "echo", inline_source(artifact(LUCID_ITEST_ECHO_1_0)),
                        R"(,"run_as":{"user":"root"})"),
        "reinstall-2");
    CHECK(error_of(root) == "run_as not allowed: root (not in LUCID_RUN_AS_ALLOWED)");
    // The same settings again: nothing to do.
    auto same = rig.install(
        install_payload("reinstall-3", "echo", inline_source(artifact(LUCID_ITEST_ECHO_1_0)),
                        R"(,"isolation":"process")"),
        "reinstall-3");
    CHECK(flag_of(same, "noop"));
}

TEST_CASE("configure of a stopped component is shown in core/components at once") {
    IsolationRig rig("iso-stopped");
    REQUIRE(ok_of(rig.control("stop", "echo", "stop-1")));
    rig.client->clear();
    auto set = rig.configure(
        R"({"request_id":"s1","component_id":"echo","isolation":"process","limits":{"open_files":64}})",
        "s1");
    REQUIRE_MESSAGE(ok_of(set), set.payload);
    auto shown = rig.client->wait_for(rig.agent.topic("core/components"), [](const Message& m) {
        return has_text(m.payload, R"("open_files":64)");
    });
    REQUIRE_MESSAGE(shown, rig.agent.log());
    CHECK(has_text(shown->payload, R"("isolation":"process")"));
}

TEST_CASE("bad isolation settings are refused with the field named") {
    IsolationRig rig("iso-bad");
    auto mode =
        rig.configure(R"({"request_id":"b1","component_id":"echo","isolation":"container"})", "b1");
    CHECK(error_of(mode) == R"(validation_error: 'isolation' must be "in_process" or "process")");
    auto limit = rig.configure(
        R"({"request_id":"b2","component_id":"echo","limits":{"memory_mb":0}})", "b2");
    CHECK(error_of(limit) == "validation_error: 'limits.memory_mb' must be a positive integer");
    // More than the kernel can enforce: refused here, not by the child it would restart into.
    for (const char* too_much : {R"("memory_mb":99999999999999)", R"("open_files":2000000)",
                                 R"("cpu_seconds":40000000)"}) {
        CAPTURE(too_much);
        auto big = rig.configure(std::string(R"({"request_id":"b2-)") + too_much[1] +
                                     R"(","component_id":"echo",)" +
                                     R"("isolation":"process","limits":{)" + too_much + "}}",
                                 std::string("b2-") + too_much[1]);
        CHECK(has_text(error_of(big), "' must be at most "));
    }
    CHECK(has_text(registry_entry(rig.registry(), "echo"), R"("isolation")") == false);
    auto nothing = rig.configure(R"({"request_id":"b3","component_id":"echo"})", "b3");
    CHECK(error_of(nothing) ==
          "validation_error: nothing to configure: give 'isolation', 'limits' or 'run_as'");
    auto unknown =
        rig.configure(R"({"request_id":"b4","component_id":"nope","isolation":"process"})", "b4");
    CHECK(error_of(unknown) == "component not found: nope");
    auto install = rig.install_isolated("probe", LUCID_ITEST_PROBE, R"(,"isolation":"vm")");
    CHECK(error_of(install) ==
          R"(validation_error: 'isolation' must be "in_process" or "process")");
    CHECK(registry_entry(rig.registry(), "probe").empty());
}
