// A plugin that hangs in a callback (contract §3, §5): the agent keeps answering, reports the
// component failed/unresponsive and the agent degraded, refuses the plugin's commands at once
// instead of queueing them, recovers when the callback returns, and stops or uninstalls the hung
// plugin in bounded time. The stall threshold is 1 s here (LUCID_PLUGIN_STALL_S).
#include <doctest/doctest.h>

#include <signal.h>

#include <fstream>

#include "component_rig.hpp"

using namespace lucid::itest;
using Clock = std::chrono::steady_clock;

namespace {

// An agent with the hang plugin (and echo, when asked) installed and running.
struct HangRig : ComponentRig {
    lucid::test::TempDir files;
    const std::filesystem::path release = files.path() / "release";

    explicit HangRig(const std::string& agent_id, bool with_echo) : ComponentRig(agent_id) {
        env["LUCID_PLUGIN_STALL_S"] = "1";
        start_agent();
        REQUIRE(ok_of(install("install-hang", "hang", inline_source(artifact(LUCID_ITEST_HANG)))));
        REQUIRE(wait_status("hang", "running", "1.0.0"));
        if (with_echo) {
            REQUIRE(ok_of(
                install("install-echo", "echo", inline_source(artifact(LUCID_ITEST_ECHO_1_0)))));
            REQUIRE(wait_status("echo", "running", "1.0.0"));
        }
        client->clear();
    }
    ~HangRig() { release_plugin(); }  // never leave the plugin's thread waiting 60 s

    // Sends "hang" without waiting: its result only comes once the plugin is released.
    void hang(const std::string& request_id) {
        client->publish(agent.topic("components/hang/cmd/hang"),
                        R"({"request_id":")" + request_id + R"(","release_file":)" +
                            json_string(release.string()) + "}");
    }
    void release_plugin() { std::ofstream(release).put('\n'); }

    std::optional<Message> core_state(const std::string& state, int failed) {
        return client->wait_for(agent.topic("core/state"), [&](const Message& m) {
            auto doc = m.json();
            return m.str("state") == state && doc.HasMember("components_failed") &&
                   doc["components_failed"].GetInt() == failed;
        });
    }

    // A command to a component of the plugin, with how long its answer took.
    std::pair<Message, Clock::duration> timed_plugin_command(const std::string& cid,
                                                             const std::string& action,
                                                             const std::string& request_id) {
        const auto sent = Clock::now();
        auto answer =
            plugin_command(cid, action, R"({"request_id":")" + request_id + "\"}", request_id);
        REQUIRE_MESSAGE(answer, "no answer to " << request_id << "\n" << agent.log());
        return {*answer, answer->received - sent};
    }
};

constexpr auto kPrompt = std::chrono::milliseconds(800);  // well under the 1 s threshold

}  // namespace

TEST_CASE("a plugin hung in a command is reported, refused at once, and recovers") {
    HangRig rig("hang-1", true);
    auto answered = rig.plugin_command("hang", "hello", R"({"request_id":"hello-0"})", "hello-0");
    REQUIRE_MESSAGE(answered, rig.agent.log());
    rig.hang("h1");

    auto failed = rig.wait_status("hang", "failed");
    REQUIRE_MESSAGE(failed, rig.agent.log());
    CHECK(has_text(failed->str("error"), "unresponsive: command 'hang' running for "));
    CHECK(rig.core_state("degraded", 1));
    CHECK(rig.agent.wait_for_log("plugin hang unresponsive: command 'hang' running for",
                                 std::chrono::seconds(5)));

    // The agent and the other plugin go on.
    const auto ping_sent = Clock::now();
    auto ping = rig.ping("ping-while-hung");
    CHECK(ok_of(ping));
    CHECK(ping.received - ping_sent < kPrompt);
    auto [echo, echo_took] = rig.timed_plugin_command("echo", "echo", "echo-while-hung");
    CHECK(ok_of(echo));
    CHECK(echo_took < kPrompt);

    // The hung plugin's commands and config are refused at once, not queued behind the hang.
    auto [refused, refused_took] = rig.timed_plugin_command("hang", "hello", "hello-1");
    CHECK_FALSE(ok_of(refused));
    CHECK(error_of(refused) == "component unresponsive: hang");
    CHECK(refused_took < kPrompt);
    // A request answered before the hang still gets its answer.
    rig.client->clear();
    auto replayed = rig.plugin_command("hang", "hello", R"({"request_id":"hello-0"})", "hello-0");
    REQUIRE_MESSAGE(replayed, rig.agent.log());
    CHECK(replayed->payload == answered->payload);
    auto cfg = rig.command("components/hang/cfg/set", "components/hang/evt/cfg_set_result",
                           R"({"request_id":"cfg-1","set":{"mode":"x"}})", "cfg-1");
    CHECK_FALSE(ok_of(cfg));
    CHECK(error_of(cfg) == "component unresponsive: hang");

    rig.client->clear();  // from here on, only what follows the release
    rig.release_plugin();
    auto released = rig.client->wait_for(rig.agent.topic("components/hang/evt/hang_result"),
                                         with_request_id("h1"));
    REQUIRE_MESSAGE(released, rig.agent.log());
    CHECK(has_text(released->payload, R"("released":true)"));
    auto running = rig.wait_status("hang", "running", "1.0.0");
    REQUIRE_MESSAGE(running, rig.agent.log());
    CHECK(running->json()["error"].IsNull());
    CHECK(rig.core_state("running", 0));
    CHECK(rig.agent.wait_for_log("plugin hang responsive again: command 'hang' returned after",
                                 std::chrono::seconds(5)));

    // The refusal was no answer: the same request_id now runs.
    rig.client->clear();  // the refusal itself carries that request_id too
    auto again = rig.plugin_command("hang", "hello", R"({"request_id":"hello-1"})", "hello-1");
    REQUIRE_MESSAGE(again, rig.agent.log());
    CHECK(ok_of(*again));
    CHECK(has_text(again->payload, R"("hello":true)"));
}

TEST_CASE("a hung plugin is uninstalled in bounded time and asks for an agent restart") {
    HangRig rig("hang-2", false);
    rig.hang("h1");
    REQUIRE_MESSAGE(rig.wait_status("hang", "failed"), rig.agent.log());
    REQUIRE(rig.core_state("degraded", 1));
    rig.client->clear();

    const auto sent = Clock::now();
    auto result =
        rig.command("core/cmd/components/uninstall", "core/evt/components/uninstall_result",
                    R"({"request_id":"u1","component_id":"hang"})", "u1");
    // One more threshold (1 s) for the hung callback, then the library is left mapped.
    CHECK(result.received - sent < std::chrono::seconds(4));
    CHECK(ok_of(result));
    CHECK(flag_of(result, "restart_required"));
    CHECK(
        rig.agent.wait_for_log("stop could not run within 1 s: command 'hang' still running after",
                               std::chrono::seconds(5)));
    CHECK(ok_of(rig.ping("ping-after-uninstall")));
    CHECK(rig.core_state("running", 0));  // the uninstalled component counts no more

    // Released later, the abandoned plugin finishes on its own, cut off from the agent: its
    // late result is not published for a component that no longer exists.
    rig.release_plugin();
    CHECK(rig.agent.wait_for_log(
        "command 'hang' returned after the component was left behind; its result is not "
        "published",
        std::chrono::seconds(5)));
    CHECK(ok_of(rig.ping("ping-after-release")));
    CHECK(rig.client->messages(rig.agent.topic("components/hang/evt/hang_result")).empty());
    // The agent still stops cleanly, destroying what the plugin's thread used to reach.
    const int status = rig.agent.stop(SIGTERM);
    CHECK_MESSAGE(status == 0, rig.agent.log());
}

TEST_CASE("SIGTERM while a plugin hangs: the agent exits cleanly around the plugin's thread") {
    HangRig rig("hang-3", false);
    rig.hang("h1");
    REQUIRE_MESSAGE(rig.wait_status("hang", "failed"), rig.agent.log());
    rig.agent.process().signal(SIGTERM);
    // Stopping waits one more threshold (1 s) for the hung callback, then leaves it behind...
    REQUIRE_MESSAGE(
        rig.agent.wait_for_log("stop could not run within 1 s: command 'hang' still running after",
                               std::chrono::seconds(10)),
        rig.agent.log());
    // ...and the callback returns while the agent tears down what it used to reach.
    rig.release_plugin();
    const auto status = rig.agent.process().wait_exit(std::chrono::seconds(15));
    REQUIRE_MESSAGE(status, rig.agent.log());
    CHECK_MESSAGE(*status == 0, rig.agent.log());
}
