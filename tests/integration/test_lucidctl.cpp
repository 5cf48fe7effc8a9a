// lucidctl as a real process against a real broker and agent: every command, every exit code,
// --json output parsed, and the offline fallback of `plugin list`.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "agent_harness.hpp"
#include "ctl_runner.hpp"

using namespace lucid::itest;
namespace fs = std::filesystem;

namespace {

using Outcome = CtlOutcome;
Outcome ctl(const std::vector<std::string>& args, const std::map<std::string, std::string>& env) {
    return run_ctl(args, env);
}

using Running = CtlAgentRig;

}  // namespace

TEST_CASE("a broker that is not there exits 3") {
    const auto out = ctl({"--timeout", "1", "ping"}, {{"LUCID_MQTT_URL", "mqtt://127.0.0.1:1"}});
    CHECK(out.code == 3);
    CHECK(out.has("cannot connect to mqtt://127.0.0.1:1"));
}

TEST_CASE("plugin list falls back to the local registry and says so") {
    TempDir dir;
    fs::create_directories(dir / "data");
    fs::copy_file(fs::path(LUCID_FIXTURES) / "registry/format1.json", dir / "data/registry.json");
    const std::map<std::string, std::string> env{{"LUCID_MQTT_URL", "mqtt://127.0.0.1:1"},
                                                 {"LUCID_DATA_DIR", (dir / "data").string()}};
    const auto table = ctl({"--timeout", "1", "plugin", "list"}, env);
    CHECK(table.code == 0);
    CHECK(table.has("broker unreachable"));
    CHECK(table.has("lucid-agent-cpu"));
    CHECK(table.has("lucid-agent-echo"));

    // --json keeps stdout parseable: the notice goes to stderr, which this run discards.
    const auto json = ctl({"--timeout", "1", "--json", "plugin", "list"}, env).output;
    const auto start = json.find('{');
    REQUIRE(start != std::string::npos);
    rapidjson::Document doc;
    doc.Parse(json.c_str() + start);
    REQUIRE_FALSE(doc.HasParseError());
    CHECK(std::string(doc["source"].GetString()) == "local_registry");
    CHECK(doc["count"].GetInt() == 2);
    CHECK(std::string(doc["components"]["cpu"]["version"].GetString()) == "1.2.0");
}

TEST_CASE("an agent that never answers exits 3") {
    Running r;
    const auto out =
        ctl({"--timeout", "1", "--agent", "ghost", "ping"}, {{"LUCID_MQTT_URL", r.broker.url()}});
    CHECK(out.code == 3);
    CHECK(out.has("no answer from agent 'ghost'"));
    CHECK(out.has("(the broker has no status of it: is --agent right?)"));
}

TEST_CASE("core commands: ping, status, agents, refresh, config get and set") {
    Running r;
    const auto ping = r.run({"ping"});
    CHECK(ping.code == 0);
    CHECK(ping.has("ping: ok"));
    CHECK(ping.has("round trip"));

    const auto status = r.run({"status"});
    CHECK(status.code == 0);
    CHECK(status.has("online"));

    auto agents = r.run({"--json", "agents"}).json();
    REQUIRE(agents.IsArray());
    REQUIRE(agents.Size() == 1);
    CHECK(std::string(agents[0]["agent_id"].GetString()) == "ctl-1");
    CHECK(r.run({"agents"}).has("ctl-1"));

    auto refresh = r.run({"--json", "refresh"}).json();
    CHECK(refresh["ok"].GetBool());
    REQUIRE(refresh["snapshots_updated"].IsArray());
    CHECK(refresh["snapshots_updated"].Size() >= 5);

    CHECK(r.run({"config", "get"}).has("heartbeat_s=30"));
    const auto set = r.run({"config", "set", "heartbeat_s=60", "log_level=DEBUG"});
    CHECK(set.code == 0);
    auto cfg = r.run({"--json", "config", "get"}).json();
    CHECK(cfg["cfg"]["heartbeat_s"].GetInt() == 60);
    CHECK(std::string(cfg["cfg"]["log_level"].GetString()) == "DEBUG");

    const auto refused = r.run({"config", "set", "heartbeat_s=1"});
    CHECK(refused.code == 1);
    CHECK(refused.has("heartbeat_s must be between 5 and 3600"));
    CHECK(r.run({"config", "set", "heartbeat_s"}).code == 2);
    // The agent's refusal of a misspelt key, and the key it most likely meant.
    const auto typo = r.run({"config", "set", "telemetry.metrics.cpu_precent.enabled=true"});
    CHECK(typo.code == 1);
    CHECK_MESSAGE(typo.has("cfg/set failed: unknown config key: telemetry.metrics.cpu_precent\n"
                           "did you mean 'telemetry.metrics.cpu_percent'?\n"),
                  typo.output);
    const auto top_typo = r.run({"config", "set", "heartbeat=10"});
    CHECK_MESSAGE(top_typo.has("did you mean 'heartbeat_s'?"), top_typo.output);
}

TEST_CASE("plugin commands: install inline, list, info, stop, start, uninstall, inspect") {
    Running r;
    const auto install = r.run({"plugin", "install", LUCID_ITEST_ECHO_1_0});
    CHECK_MESSAGE(install.code == 0, install.output, r.agent.log());
    CHECK(install.has("component_id=echo"));

    auto list = r.run({"--json", "plugin", "list"}).json();
    CHECK(list["count"].GetInt() == 1);
    CHECK(std::string(list["components"]["echo"]["state"].GetString()) == "running");
    CHECK(r.run({"plugin", "list"}).has("lucid-agent-echo"));
    CHECK(r.run({"plugin", "info", "echo"}).has("running"));
    CHECK(r.run({"plugin", "info", "nope"}).code == 1);

    CHECK(r.run({"plugin", "stop", "echo"}).code == 0);
    CHECK(r.run({"plugin", "disable", "echo"}).code == 0);
    CHECK(r.run({"plugin", "enable", "echo"}).code == 0);
    CHECK(r.run({"plugin", "start", "echo"}).code == 0);
    const auto missing = r.run({"plugin", "start", "nope"});
    CHECK(missing.code == 1);
    CHECK(missing.has("component not found: nope"));

    auto uninstall = r.run({"--json", "plugin", "uninstall", "echo"}).json();
    CHECK(uninstall["ok"].GetBool());
    CHECK_FALSE(uninstall["noop"].GetBool());
    auto again = r.run({"--json", "plugin", "uninstall", "echo"}).json();
    CHECK(again["noop"].GetBool());

    const auto inspect = r.run({"plugin", "inspect", LUCID_ITEST_ECHO_1_0});
    CHECK(inspect.code == 0);
    CHECK(inspect.has("component_id: echo"));
    auto inspect_json = r.run({"--json", "plugin", "inspect", LUCID_ITEST_ECHO_1_0}).json();
    CHECK(std::string(inspect_json["dist_name"].GetString()) == "lucid-agent-echo");
    CHECK(inspect_json["problem"].IsNull());
}

TEST_CASE("inspect refuses a file that is not a plugin, without loading it") {
    TempDir dir;
    std::ofstream(dir / "fake-1.0.0.so") << "not an ELF file";
    const auto out = ctl({"plugin", "inspect", (dir / "fake-1.0.0.so").string()}, {});
    CHECK(out.code == 2);  // a local problem; 1 is for an agent's ok:false
    CHECK(out.has("fake-1.0.0.so"));
    const auto passwd = ctl({"plugin", "inspect", "/etc/passwd"}, {});
    CHECK(passwd.code == 2);
    CHECK(passwd.has("/etc/passwd"));
}

TEST_CASE("installing from a URL needs a sha256 and a component id") {
    Running r;
    CHECK(r.run({"plugin", "install", "https://example.com/x-1.0.0.so"}).code == 2);
    // file:// is a path on the agent's machine: lucidctl cannot read the manifest there.
    const auto from_file_url =
        r.run({"plugin", "install", std::string("file://") + LUCID_ITEST_ECHO_1_0});
    CHECK(from_file_url.code == 2);
    CHECK(from_file_url.has("--id is mandatory for a URL"));
}

TEST_CASE("exit codes and --json output of plugin info, stop, ping") {
    Running r;
    REQUIRE(r.run({"plugin", "install", LUCID_ITEST_ECHO_1_0}).code == 0);
    CHECK(r.run({"plugin", "stop", "echo"}).code == 0);
    const auto again = r.run({"plugin", "stop", "echo"});
    CHECK(again.code == 0);
    CHECK_MESSAGE(again.has("noop=true"), again.output);
    auto noop = r.run({"--json", "plugin", "stop", "echo"}).json();
    CHECK((noop.HasMember("noop") && noop["noop"].GetBool()));
    CHECK_FALSE(r.run({"--json", "plugin", "start", "echo"}).json().HasMember("noop"));

    // An agent the broker has never seen: unreachable (3), not a failed command (1).
    const auto ghost = ctl({"--timeout", "2", "--agent", "ghost", "plugin", "info", "echo"},
                           {{"LUCID_MQTT_URL", r.broker.url()}});
    CHECK_MESSAGE(ghost.code == 3, ghost.output);
    CHECK(ghost.has("agent 'ghost' has no core/components snapshot"));

    const auto nosuch = r.run({"--json", "plugin", "info", "nosuch"});
    CHECK(nosuch.code == 1);
    auto error = nosuch.json();
    CHECK_FALSE(error["ok"].GetBool());
    CHECK(std::string(error["error"].GetString()) == "component not found: nosuch");

    auto ping = r.run({"--json", "ping"}).json();
    CHECK(ping["ok"].GetBool());
    REQUIRE(ping.HasMember("rtt_ms"));
    CHECK(ping["rtt_ms"].IsNumber());
    CHECK(ping["rtt_ms"].GetDouble() > 0);
}

TEST_CASE("--dist must be a normalized dist name; the legacy uninstall error gets a hint") {
    TempDir dir;
    fs::create_directories(dir / "data");
    fs::copy_file(fs::path(LUCID_FIXTURES) / "legacy-registry" / "v0.9-dist-name.json",
                  dir / "data/registry.json");
    Broker broker;
    broker.start();
    AgentHarness agent{broker, "ctl-leg"};
    MqttClient client(broker.port());
    client.subscribe(agent.topic("#"));
    agent.start({{"LUCID_DATA_DIR", (dir / "data").string()}});
    REQUIRE_MESSAGE(wait_online(client, agent), agent.log());
    const std::map<std::string, std::string> env{{"LUCID_MQTT_URL", broker.url()},
                                                 {"LUCID_AGENT_ID", "ctl-leg"}};

    const auto bad = ctl({"plugin", "uninstall", "mystery", "--dist", "Some_Thing"}, env);
    CHECK(bad.code == 2);
    CHECK_MESSAGE(bad.has("--dist 'Some_Thing' is not a normalized dist name (did you mean "
                          "'some-thing'?)"),
                  bad.output);

    const auto legacy = ctl({"plugin", "uninstall", "mystery"}, env);
    CHECK(legacy.code == 1);
    CHECK(
        legacy.has("registry missing dist_name for component; provide dist_name in uninstall "
                   "payload for migration"));
    CHECK(legacy.has("hint: lucidctl plugin uninstall ID --dist NAME"));
    CHECK(ctl({"plugin", "uninstall", "mystery", "--dist", "some-thing"}, env).code == 0);
}

TEST_CASE("the offline registry: a missing data directory is an error; plugin info falls back") {
    TempDir scratch;
    const std::string nowhere_dir = (scratch / "nonexistent").string();
    const std::map<std::string, std::string> nowhere{{"LUCID_MQTT_URL", "mqtt://127.0.0.1:1"}};
    const auto missing =
        ctl({"--timeout", "1", "--data-dir", nowhere_dir, "plugin", "list"}, nowhere);
    CHECK(missing.code == 2);
    CHECK(missing.has("data directory " + nowhere_dir + " does not exist"));
    CHECK_FALSE(missing.has("(none)"));
    CHECK_FALSE(fs::exists(nowhere_dir));  // and nothing was created there

    TempDir dir;
    fs::create_directories(dir / "data");
    fs::copy_file(fs::path(LUCID_FIXTURES) / "registry/format1.json", dir / "data/registry.json");
    auto env = nowhere;
    env["LUCID_DATA_DIR"] = (dir / "data").string();
    const auto info = ctl({"--timeout", "1", "plugin", "info", "cpu"}, env);
    CHECK_MESSAGE(info.code == 0, info.output);
    CHECK(info.has("showing the local registry"));
    CHECK(info.has("1.2.0"));
    CHECK(ctl({"--timeout", "1", "plugin", "info", "nosuch"}, env).code == 1);
}
