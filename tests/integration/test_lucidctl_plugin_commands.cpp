// lucidctl plugin config get|set and plugin call as an operator uses them, against a real agent
// running the probe and echo plugins: a component's config read from its retained cfg/state and
// changed through its cfg/set (typed values, JSON values, the plugin's refusal), a plugin's own
// commands with a JSON object, and what lucidctl refuses before sending anything (exit 2).
#include <doctest/doctest.h>

#include "ctl_runner.hpp"

using namespace lucid::itest;

namespace {

std::string text_of(const rapidjson::Value& v) { return v.IsString() ? v.GetString() : ""; }

struct PluginRig : CtlAgentRig {
    PluginRig() {
        const auto probe =
            run({"plugin", "install", LUCID_ITEST_PROBE, "--config", R"({"mode":"fast","n":1})"});
        REQUIRE_MESSAGE(probe.code == 0, probe.output << agent.log());
        const auto echo = run({"plugin", "install", LUCID_ITEST_ECHO_1_0});
        REQUIRE_MESSAGE(echo.code == 0, echo.output << agent.log());
    }
    // How many commands reached the broker on components/{cid}/cmd/{action}.
    std::size_t sent(const std::string& cid, const std::string& action) {
        return client->messages(agent.topic("components/" + cid + "/cmd/" + action)).size();
    }
};

}  // namespace

TEST_CASE("plugin config get shows a component's config; set changes it, typed, or is refused") {
    PluginRig r;
    const auto get = r.run({"plugin", "config", "get", "probe"});
    CHECK_MESSAGE(get.code == 0, get.output);
    CHECK(get.has("mode=fast\n"));
    CHECK(get.has("n=1\n"));
    // A component without config says so (on stderr), instead of printing nothing.
    const auto none = r.run({"plugin", "config", "get", "echo"});
    CHECK_MESSAGE(none.code == 0, none.output);
    CHECK_MESSAGE(none.has("echo has no config: lucidctl plugin config set echo KEY=VALUE"),
                  none.output);
    auto before = r.run({"--json", "plugin", "config", "get", "probe"}).json();
    REQUIRE(before.HasMember("cfg"));
    CHECK(text_of(before["cfg"]["mode"]) == "fast");

    // true/false booleans, integers numbers, else strings; KEY:=JSON any JSON value.
    const auto set = r.run({"plugin", "config", "set", "probe", "mode=slow", "n=5", "on=true",
                            "name=12b", R"(limits:={"max":5})", "ratio:=0.5"});
    CHECK_MESSAGE(set.code == 0, set.output << r.agent.log());
    CHECK(set.has("cfg/set: ok  component_id=probe"));
    auto after = r.run({"--json", "plugin", "config", "get", "probe"}).json();
    const auto& cfg = after["cfg"];
    CHECK(text_of(cfg["mode"]) == "slow");
    CHECK((cfg["n"].IsInt() && cfg["n"].GetInt() == 5));
    CHECK((cfg["on"].IsBool() && cfg["on"].GetBool()));
    CHECK(text_of(cfg["name"]) == "12b");
    CHECK((cfg["limits"].IsObject() && cfg["limits"]["max"].GetInt() == 5));
    CHECK((cfg["ratio"].IsDouble() && cfg["ratio"].GetDouble() == 0.5));
    // The plugin itself reads the merged config.
    auto seen = r.run({"--json", "plugin", "call", "probe", "config"}).json();
    CHECK(text_of(seen["config"]["mode"]) == "slow");
    CHECK(seen["config"]["limits"]["max"].GetInt() == 5);

    // The plugin refuses: exit 1 with its error, and nothing changes.
    const auto refused = r.run({"plugin", "config", "set", "probe", "mode=bad"});
    CHECK_MESSAGE(refused.code == 1, refused.output);
    CHECK(refused.has("cfg/set failed: mode bad is refused"));
    auto json_refused = r.run({"--json", "plugin", "config", "set", "probe", "mode=bad"});
    CHECK(json_refused.code == 1);
    CHECK(text_of(json_refused.json()["error"]) == "mode bad is refused");
    CHECK(r.run({"plugin", "config", "get", "probe"}).has("mode=slow\n"));

    // A key the config does not have, near one it has: a likely typo, said before sending.
    const auto typo_key = r.run({"plugin", "config", "set", "probe", "mdoe=fast"});
    CHECK_MESSAGE(typo_key.code == 0, typo_key.output);
    CHECK_MESSAGE(typo_key.has("lucidctl: warning: probe's config has no key 'mdoe' (did you "
                               "mean 'mode'?); sent as a new key"),
                  typo_key.output);
    CHECK_FALSE(r.run({"plugin", "config", "set", "probe", "mode=fast"}).has("warning"));

    // A component the agent does not have: exit 1, named.
    const auto get_ghost = r.run({"plugin", "config", "get", "ghost"});
    CHECK(get_ghost.code == 1);
    CHECK(get_ghost.has("component not found: ghost"));
    const auto get_ghost_json = r.run({"--json", "plugin", "config", "get", "ghost"});
    CHECK(get_ghost_json.code == 1);
    CHECK(text_of(get_ghost_json.json()["error"]) == "component not found: ghost");
    const auto set_ghost = r.run({"plugin", "config", "set", "ghost", "a=1"});
    CHECK_MESSAGE(set_ghost.code == 1, set_ghost.output);
    CHECK(set_ghost.has("cfg/set failed: component not found: ghost"));
    // An agent the broker never saw: unreachable (3), not a missing component.
    const auto no_agent =
        run_ctl({"--timeout", "2", "--agent", "nobody", "plugin", "config", "get", "probe"},
                {{"LUCID_MQTT_URL", r.broker.url()}});
    CHECK_MESSAGE(no_agent.code == 3, no_agent.output);
    CHECK(no_agent.has("no status of agent 'nobody' on the broker"));

    // Usage errors, before anything is sent.
    const std::size_t sets = r.client->messages(r.agent.topic("components/probe/cfg/set")).size();
    const auto no_setting = r.run({"plugin", "config", "set", "probe"});
    CHECK(no_setting.code == 2);
    CHECK(no_setting.has("missing KEY=VALUE"));
    const auto bad_json = r.run({"plugin", "config", "set", "probe", "limits:={"});
    CHECK(bad_json.code == 2);
    CHECK(bad_json.has("limits:= takes a JSON value"));
    const auto twice = r.run({"plugin", "config", "set", "probe", "n=1", "n:=2"});
    CHECK(twice.code == 2);
    CHECK(twice.has("n given twice"));
    const auto bad_id = r.run({"plugin", "config", "get", "Bad/Id"});
    CHECK(bad_id.code == 2);
    CHECK(bad_id.has("component id 'Bad/Id' is invalid"));
    const auto typo = r.run({"plugin", "config", "sett", "probe", "n=1"});
    CHECK(typo.code == 2);
    CHECK(typo.has("unknown plugin config subcommand 'sett' (did you mean 'set'?)"));
    CHECK(r.client->messages(r.agent.topic("components/probe/cfg/set")).size() == sets);
}

TEST_CASE("plugin call sends a plugin's command with a JSON object and prints its answer") {
    PluginRig r;
    const auto echo = r.run({"plugin", "call", "echo", "echo", R"({"message":"hi"})"});
    CHECK_MESSAGE(echo.code == 0, echo.output << r.agent.log());
    CHECK(echo.has("echo: ok\n"));
    CHECK(echo.has(R"("message":"hi")"));
    auto raw = r.run({"--json", "plugin", "call", "echo", "echo", R"({"message":"hi"})"}).json();
    CHECK(raw["ok"].GetBool());
    CHECK(text_of(raw["echo"]["message"]) == "hi");
    CHECK(text_of(raw["request_id"]).rfind("ctl-", 0) == 0);
    // Without JSON the payload is {} (and lucidctl's request_id).
    const auto count = r.run({"plugin", "call", "probe", "count"});
    CHECK_MESSAGE(count.code == 0, count.output);
    CHECK(count.has("count: ok\ncount=1\n"));

    // Refusals of the plugin or the agent: exit 1 with the error.
    const auto unknown = r.run({"plugin", "call", "echo", "nosuch"});
    CHECK_MESSAGE(unknown.code == 1, unknown.output);
    CHECK(unknown.has("nosuch failed: unknown command: nosuch"));
    const auto ghost = r.run({"plugin", "call", "ghost", "echo"});
    CHECK_MESSAGE(ghost.code == 1, ghost.output);
    CHECK(ghost.has("echo failed: component not found: ghost"));
    REQUIRE(r.run({"plugin", "stop", "echo"}).code == 0);
    const auto stopped = r.run({"--json", "plugin", "call", "echo", "echo"});
    CHECK(stopped.code == 1);
    CHECK(text_of(stopped.json()["error"]) == "component not running: echo");
    const auto stopped_text = r.run({"plugin", "call", "echo", "echo"});
    CHECK(stopped_text.code == 1);
    CHECK_MESSAGE(stopped_text.has("echo failed: component not running: echo\n"
                                   "start it first: lucidctl plugin start echo\n"),
                  stopped_text.output);

    // Usage errors, before anything is sent.
    const std::size_t sent = r.sent("echo", "echo");
    const auto not_json = r.run({"plugin", "call", "echo", "echo", R"({"message":)"});
    CHECK(not_json.code == 2);
    CHECK(not_json.has("is not JSON: "));
    const auto array = r.run({"--json", "plugin", "call", "echo", "echo", "[1,2]"});
    CHECK(array.code == 2);
    CHECK(array.has("JSON must be an object"));
    CHECK(array.has(R"({"ok":false,"error":"JSON must be an object)"));  // --json: on stdout
    const auto own_id = r.run({"plugin", "call", "echo", "echo", R"({"request_id":"r1"})"});
    CHECK(own_id.code == 2);
    CHECK(own_id.has("JSON must not hold request_id"));
    const auto extra = r.run({"plugin", "call", "echo", "echo", "{}", "more"});
    CHECK(extra.code == 2);
    CHECK(extra.has("unexpected argument 'more'"));
    CHECK(r.sent("echo", "echo") == sent);
    for (const char* action : {"a/b", "a+", "#", ""}) {
        const auto bad = r.run({"plugin", "call", "echo", action});
        CHECK_MESSAGE(bad.code == 2, action << ": " << bad.output);
    }
    CHECK(r.run({"plugin", "call", "echo"}).has("missing ACTION"));
    CHECK(r.run({"plugin", "call", "Echo", "echo"}).code == 2);
}

TEST_CASE("plugin config and plugin call have their help and their line in the overview") {
    const auto overview = run_ctl({"--help"}, {});
    CHECK(overview.has("plugin config get ID"));
    CHECK(overview.has("plugin call ID ACTION [JSON]"));
    const auto config = run_ctl({"plugin", "config", "set", "--help"}, {});
    CHECK(config.code == 0);
    CHECK(config.has("usage: lucidctl plugin config get ID"));
    const auto call = run_ctl({"plugin", "call", "--help"}, {});
    CHECK(call.code == 0);
    CHECK(call.has("usage: lucidctl plugin call ID ACTION [JSON]"));
}
