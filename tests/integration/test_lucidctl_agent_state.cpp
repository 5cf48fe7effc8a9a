// lucidctl against agents that are not simply online and idle: offline (a clean stop or a
// lost connection, i.e. its Will), and busy stopping a hung plugin. lucidctl must say an agent
// is offline at once instead of waiting for an answer, never show an offline agent's last
// states as current, and outwait the agent's own time limit for a plugin's stop.
#include <doctest/doctest.h>

#include <signal.h>

#include <cstdio>
#include <ctime>
#include <fstream>

#include "component_rig.hpp"
#include "ctl_runner.hpp"

using namespace lucid::itest;
using Clock = std::chrono::steady_clock;

namespace {

// Now as the contract writes time: 2026-11-30T14:01:19.889Z.
std::string utc_now() {
    const auto now = std::chrono::system_clock::now();
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
    const std::time_t seconds = static_cast<std::time_t>(ms / 1000);
    std::tm tm{};
    gmtime_r(&seconds, &tm);
    char text[96];
    std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  static_cast<int>(ms % 1000));
    return text;
}

}  // namespace

namespace {

struct CtlRig : ComponentRig {
    explicit CtlRig(const std::string& id) : ComponentRig(id) {}
    CtlOutcome ctl(std::vector<std::string> args) {
        return run_ctl(args, {{"LUCID_MQTT_URL", broker.url()},
                              {"LUCID_AGENT_ID", agent.agent_id()},
                              {"LUCID_DATA_DIR", data().string()}});
    }
    // Stops the agent and waits for its retained status to say offline.
    void take_offline(int signo) {
        client->clear();
        agent.stop(signo);
        REQUIRE(client->wait_for(agent.topic("status"),
                                 [](const Message& m) { return m.str("state") == "offline"; }));
    }
};

}  // namespace

TEST_CASE("a command to an offline agent fails at once, saying since when") {
    for (int signo : {SIGTERM, SIGKILL}) {  // a clean stop, and a lost connection (the Will)
        CAPTURE(signo);
        CtlRig rig("ctl-off-" + std::to_string(signo));
        rig.start_agent();
        REQUIRE(rig.ctl({"plugin", "install", LUCID_ITEST_ECHO_1_0}).code == 0);
        rig.take_offline(signo);

        const auto sent = Clock::now();
        const auto ping = rig.ctl({"--timeout", "20", "ping"});
        CHECK(Clock::now() - sent < std::chrono::seconds(10));  // not the 20 s timeout
        CHECK(ping.code == 3);
        CHECK_MESSAGE(ping.has("agent " + rig.agent.agent_id() + " is offline since 20"),
                      ping.output);
        const auto stop = rig.ctl({"--timeout", "20", "plugin", "stop", "echo"});
        CHECK(stop.code == 3);
        CHECK(stop.has("is offline since"));

        // Its last states are shown as such.
        const auto status = rig.ctl({"status"});
        CHECK(status.code == 0);
        CHECK_MESSAGE(status.has("status:     offline since 20"), status.output);
        CHECK(status.has("(last known, as of "));
        CHECK_FALSE(status.has("uptime:"));
        const auto list = rig.ctl({"plugin", "list"});
        CHECK(list.code == 0);
        CHECK_MESSAGE(list.has("is offline since 20"), list.output);
        CHECK(list.has("the states below are its last known"));
        CHECK(list.has("LAST STATE"));
        const auto config = rig.ctl({"config", "get"});
        CHECK(config.code == 0);
        CHECK_MESSAGE(config.has("is offline since 20"), config.output);
        CHECK(config.has("its last known settings"));
        auto json = rig.ctl({"--json", "plugin", "list"}).json();
        REQUIRE(json.HasMember("agent"));
        CHECK_FALSE(json["agent"]["online"].GetBool());
        CHECK(json["agent"]["last_seen"].IsString());
    }
}

TEST_CASE("an agent that dies on a command: offline since its death, and where the answer comes") {
    CtlRig rig("ctl-dies");
    rig.start_agent();
    // Taken after the agent connected: the Will's own ts (its connect) is earlier than this.
    const std::string before = utc_now();
    const auto install = rig.ctl({"plugin", "install", LUCID_ITEST_CRASH});
    CHECK(install.code == 3);
    const std::string marker = "went offline before answering (offline since ";
    const auto at = install.output.find(marker);
    REQUIRE_MESSAGE(at != std::string::npos, install.output);
    const std::string since = install.output.substr(at + marker.size(), before.size());
    CHECK_MESSAGE(since >= before, install.output);  // ISO 8601 UTC compares as text
    CHECK(
        install.has("(0s ago)); if this command took it down, the agent answers it when it is "
                    "back: see lucidctl plugin list"));
}

TEST_CASE("status of an online agent: uptime from connected_since, not the last snapshot") {
    CtlRig rig("ctl-up");
    rig.start_agent();
    const auto status = rig.ctl({"--json", "status"});
    REQUIRE(status.code == 0);
    auto doc = status.json();
    REQUIRE_MESSAGE(doc.HasMember("presence"), status.output);
    REQUIRE(doc["presence"]["online"].GetBool());
    REQUIRE(doc["presence"]["uptime_s"].IsNumber());
    // The status was published at connect; its uptime_s is from then. lucidctl's is from now.
    const double published = doc["status"]["uptime_s"].GetDouble();
    const double now = doc["presence"]["uptime_s"].GetDouble();
    CHECK(now >= 0);
    CHECK(now < published + 60);
    const auto text = rig.ctl({"status"});
    CHECK(text.has("status:     online (session "));
    CHECK(text.has("uptime:     "));
}

TEST_CASE("plugin stop of a hung plugin waits for the agent's answer past --timeout") {
    CtlRig rig("ctl-hang");
    lucid::test::TempDir files;
    const auto release = files.path() / "release";
    rig.start_agent();  // the default stall threshold (10 s): the stop itself waits 10 s
    REQUIRE(ok_of(rig.install("install-hang", "hang", inline_source(artifact(LUCID_ITEST_HANG)))));
    REQUIRE(rig.wait_status("hang", "running", "1.0.0"));
    rig.client->publish(
        rig.agent.topic("components/hang/cmd/hang"),
        R"({"request_id":"h1","release_file":)" + json_string(release.string()) + "}");
    // The stop's task queues behind the hung command on the plugin's worker either way.

    const auto stop = rig.ctl({"--timeout", "3", "plugin", "stop", "hang"});
    std::ofstream(release).put('\n');
    CHECK_MESSAGE(stop.code == 0, stop.output << rig.agent.log());
    CHECK(stop.has("restart_required=true"));
}
