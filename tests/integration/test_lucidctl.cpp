// lucidctl as a real process against a real broker and agent: every command, every exit code,
// --json output parsed, and the offline fallback of `plugin list`.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "agent_harness.hpp"

using namespace lucid::itest;
namespace fs = std::filesystem;

namespace {

struct Outcome {
    int code;
    std::string output;
    bool has(const std::string& text) const { return output.find(text) != std::string::npos; }
    rapidjson::Document json() const {
        rapidjson::Document doc;
        doc.Parse(output.c_str());
        REQUIRE_MESSAGE(!doc.HasParseError(), output);
        return doc;
    }
};

// lucidctl with an environment of its own: nothing from the test's shell leaks in.
Outcome ctl(const std::vector<std::string>& args, const std::map<std::string, std::string>& env) {
    std::vector<std::string> argv{LUCIDCTL_BIN};
    argv.insert(argv.end(), args.begin(), args.end());
    std::map<std::string, std::string> full{{"LUCID_ENV_FILE", "/dev/null"}};
    for (const auto& [k, v] : env) full[k] = v;
    auto [code, output] = run_to_completion(argv, full);
    return {code, output};
}

struct Running {
    Broker broker;
    AgentHarness agent{broker, "ctl-1"};
    std::unique_ptr<MqttClient> client;

    Running() {
        broker.start();
        client = std::make_unique<MqttClient>(broker.port());
        client->subscribe(agent.topic("#"));
        agent.start();
        REQUIRE_MESSAGE(wait_online(*client, agent), agent.log());
    }
    Outcome run(std::vector<std::string> args) {
        return ctl(args, {{"LUCID_MQTT_URL", broker.url()},
                          {"LUCID_AGENT_ID", agent.agent_id()},
                          {"LUCID_DATA_DIR", (agent.data_dir() / "data").string()}});
    }
};

}  // namespace

TEST_CASE("usage errors exit 2 and --help exits 0 on every level") {
    const std::map<std::string, std::string> env{{"LUCID_MQTT_URL", "mqtt://127.0.0.1:1"}};
    CHECK(ctl({}, env).code == 2);
    const auto unknown = ctl({"frobnicate"}, env);
    CHECK(unknown.code == 2);
    CHECK(unknown.has("unknown command 'frobnicate'"));
    CHECK(ctl({"--timeout", "zero", "ping"}, env).code == 2);
    CHECK(ctl({"plugin", "info"}, env).code == 2);  // missing the id: no broker needed to say so
    const auto help = ctl({"--help"}, env);
    CHECK(help.code == 0);
    CHECK(help.has("plugin install FILE|URL"));
    const auto install_help = ctl({"plugin", "install", "--help"}, env);
    CHECK(install_help.code == 0);
    CHECK(install_help.has("--sha256 HEX"));
}

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
        ctl({"--timeout", "0.5", "--agent", "ghost", "ping"}, {{"LUCID_MQTT_URL", r.broker.url()}});
    CHECK(out.code == 3);
    CHECK(out.has("no answer from agent 'ghost'"));
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
}

TEST_CASE("plugin commands: install inline, list, info, stop, start, uninstall, inspect") {
    Running r;
    const auto install = r.run({"plugin", "install", ECHO_PLUGIN});
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

    const auto inspect = r.run({"plugin", "inspect", ECHO_PLUGIN});
    CHECK(inspect.code == 0);
    CHECK(inspect.has("component_id: echo"));
    auto inspect_json = r.run({"--json", "plugin", "inspect", ECHO_PLUGIN}).json();
    CHECK(std::string(inspect_json["dist_name"].GetString()) == "lucid-agent-echo");
    CHECK(inspect_json["problem"].IsNull());
}

TEST_CASE("inspect refuses a file that is not a plugin, without loading it") {
    TempDir dir;
    std::ofstream(dir / "fake-1.0.0.so") << "not an ELF file";
    const auto out = ctl({"plugin", "inspect", (dir / "fake-1.0.0.so").string()}, {});
    CHECK(out.code == 1);
    CHECK(out.has("fake-1.0.0.so"));
}

TEST_CASE("installing from a URL needs a sha256 and a component id") {
    Running r;
    CHECK(r.run({"plugin", "install", "https://example.com/x-1.0.0.so"}).code == 2);
    const auto from_file_url = r.run({"plugin", "install", std::string("file://") + ECHO_PLUGIN});
    CHECK_MESSAGE(from_file_url.code == 0, from_file_url.output);
}
