// Every core command's success and error paths, over a real broker.
#include <doctest/doctest.h>

#include <signal.h>

#include "agent_harness.hpp"

using namespace lucid::itest;

namespace {

// One broker + agent + subscribed client per test case.
struct Running {
    Broker broker;
    AgentHarness agent{broker, "cmd-1"};
    std::unique_ptr<MqttClient> client;

    explicit Running(const std::map<std::string, std::string>& env = {}) {
        broker.start();
        client = std::make_unique<MqttClient>(broker.port());
        client->subscribe(agent.topic("#"));
        agent.start(env);
        REQUIRE_MESSAGE(wait_online(*client, agent), agent.log());
    }

    Message command(const std::string& cmd, const std::string& result, const std::string& payload,
                    const std::string& request_id) {
        auto m = send_command(*client, agent, cmd, result, payload, request_id);
        REQUIRE_MESSAGE(m, agent.log());
        return *m;
    }
};

std::string error_of(const Message& m) {
    auto doc = m.json();
    return doc["error"].IsNull() ? "" : doc["error"].GetString();
}

bool ok_of(const Message& m) { return m.json()["ok"].GetBool(); }

}  // namespace

TEST_CASE("ping answers ok with schema, ts, request_id and a null error") {
    Running r;
    auto m = r.command("core/cmd/ping", "core/evt/ping_result", R"({"request_id":"p-1"})", "p-1");
    auto doc = m.json();
    CHECK(doc["ok"].GetBool());
    CHECK(doc["error"].IsNull());
    CHECK(std::string(doc["schema"].GetString()) == "lucid.core.v1.0.0");
    CHECK(doc["ts"].IsString());
    CHECK_FALSE(m.retain);
}

TEST_CASE("refresh republishes every retained snapshot and lists their names") {
    Running r;
    r.client->clear();
    auto m =
        r.command("core/cmd/refresh", "core/evt/refresh_result", R"({"request_id":"f-1"})", "f-1");
    CHECK(ok_of(m));
    // A list of names, as the earlier agent answered; no component is installed here.
    CHECK(m.json_text("snapshots_updated") ==
          R"(["status","metadata","state","components","cfg","deployment"])");
    for (const char* suffix :
         {"status", "core/metadata", "core/state", "core/components", "core/cfg/state"}) {
        CHECK_MESSAGE(r.client->wait_for(r.agent.topic(suffix), any_message()), suffix);
    }
}

TEST_CASE("malformed payloads are answered on the matching result topic") {
    Running r;
    const std::vector<std::pair<std::string, std::string>> commands{
        {"core/cmd/ping", "core/evt/ping_result"},
        {"core/cmd/refresh", "core/evt/refresh_result"},
        {"core/cmd/restart", "core/evt/restart_result"},
        {"core/cfg/set", "core/evt/cfg_set_result"},
    };
    for (const auto& [cmd, result] : commands) {
        CAPTURE(cmd);
        r.client->clear();
        r.client->publish(r.agent.topic(cmd), "{oops");
        r.client->publish(r.agent.topic(cmd), "[1,2,3]");
        r.client->publish(r.agent.topic(cmd), R"({"no_request_id":true})");
        r.client->publish(r.agent.topic(cmd), "");
        std::vector<std::string> errors;
        const auto answers = r.client->wait_for_count(r.agent.topic(result), 4, any_message());
        for (const auto& m : answers) {
            CHECK_FALSE(ok_of(m));
            CHECK(m.str("request_id").empty());
            errors.push_back(error_of(m));
        }
        REQUIRE(errors.size() == 4);
        CHECK(errors[0].rfind("invalid JSON:", 0) == 0);
        CHECK(errors[1].rfind("validation_error:", 0) == 0);
        CHECK(errors[2].rfind("validation_error:", 0) == 0);
        CHECK(errors[3].rfind("invalid JSON:", 0) == 0);
    }
    // And the agent is still answering.
    CHECK(ok_of(
        r.command("core/cmd/ping", "core/evt/ping_result", R"({"request_id":"alive"})", "alive")));
}

TEST_CASE("cfg/set answers each contract error and changes nothing") {
    Running r;
    const std::vector<std::pair<std::string, std::string>> cases{
        {R"("request_id":"e1")", "missing 'set' field in payload"},
        {R"("request_id":"e2","set":[])", "'set' must be an object"},
        {R"("request_id":"e3","set":{"colour":"red"})", "unknown config key: colour"},
        {R"("request_id":"e4","set":{"heartbeat_s":"10"})", "heartbeat_s must be int"},
        {R"("request_id":"e5","set":{"heartbeat_s":4})", "heartbeat_s must be between 5 and 3600"},
        {R"("request_id":"e6","set":{"heartbeat_s":3601})",
         "heartbeat_s must be between 5 and 3600"},
        {R"("request_id":"e7","set":{"log_level":"VERBOSE"})",
         "log_level must be one of trace, debug, info, warn, error (any case; warning and err "
         "too)"},
        {R"("request_id":"e8","set":{"telemetry_enabled":1})", "telemetry_enabled must be bool"},
        {R"("request_id":"e9","set":{"heartbeat_s":10,"log_level":"NOPE"})",
         "log_level must be one of trace, debug, info, warn, error (any case; warning and err "
         "too)"},
    };
    int n = 0;
    for (const auto& [body, error] : cases) {
        const std::string id = "e" + std::to_string(++n);
        CAPTURE(body);
        auto m = r.command("core/cfg/set", "core/evt/cfg_set_result", "{" + body + "}", id);
        CHECK_FALSE(ok_of(m));
        CHECK(error_of(m) == error);
    }
    r.client->clear();
    auto refresh = r.command("core/cmd/refresh", "core/evt/refresh_result",
                             R"({"request_id":"after"})", "after");
    auto cfg = r.client->wait_for(r.agent.topic("core/cfg/state"), any_message());
    REQUIRE(cfg);
    CHECK(cfg->json()["cfg"]["heartbeat_s"].GetInt() == 30);
    CHECK(std::string(cfg->json()["cfg"]["log_level"].GetString()) == "INFO");
}

TEST_CASE("cfg/set applies, echoes applied, republishes core/cfg/state and persists") {
    Running r;
    r.client->clear();
    auto m = r.command(
        "core/cfg/set", "core/evt/cfg_set_result",
        R"({"request_id":"c1","set":{"log_level":"DEBUG","telemetry_enabled":false}})", "c1");
    CHECK(ok_of(m));
    CHECK(m.json()["applied"]["log_level"].GetString() == std::string("DEBUG"));
    auto cfg = r.client->wait_for(r.agent.topic("core/cfg/state"), [](const Message& x) {
        return x.payload.find("\"DEBUG\"") != std::string::npos;
    });
    REQUIRE(cfg);
    CHECK_FALSE(cfg->json()["cfg"]["telemetry_enabled"].GetBool());

    // Persisted: a restarted agent publishes the new config.
    CHECK(r.agent.stop(SIGTERM) == 0);
    r.client->clear();
    r.agent.start();
    REQUIRE(wait_online(*r.client, r.agent, 1));
    cfg = r.client->wait_for(r.agent.topic("core/cfg/state"), any_message());
    REQUIRE(cfg);
    CHECK(cfg->json()["cfg"]["log_level"].GetString() == std::string("DEBUG"));
}

TEST_CASE("restart is refused when the agent is not supervised") {
    Running r;
    auto m =
        r.command("core/cmd/restart", "core/evt/restart_result", R"({"request_id":"r1"})", "r1");
    CHECK_FALSE(ok_of(m));
    CHECK(error_of(m) == "not supervised");
    CHECK(r.agent.process().running());
}

TEST_CASE("a supervised restart answers, exits 75, and a second one within 10 s is refused") {
    Running r(std::map<std::string, std::string>{{"LUCID_SUPERVISED", "yes"}});
    auto m =
        r.command("core/cmd/restart", "core/evt/restart_result", R"({"request_id":"r1"})", "r1");
    CHECK(ok_of(m));
    auto code = r.agent.process().wait_exit(std::chrono::seconds(10));
    REQUIRE(code);
    CHECK(*code == 75);
    auto offline = r.client->wait_for(r.agent.topic("status"),
                                      [](const Message& x) { return x.str("state") == "offline"; });
    CHECK(offline);

    // What the service manager does: start it again.
    r.agent.start({{"LUCID_SUPERVISED", "yes"}});
    REQUIRE(wait_online(*r.client, r.agent, 1));
    m = r.command("core/cmd/restart", "core/evt/restart_result", R"({"request_id":"r2"})", "r2");
    CHECK_FALSE(ok_of(m));
    CHECK(error_of(m).rfind("restart refused", 0) == 0);
    CHECK(r.agent.process().running());
}

TEST_CASE("a duplicate request_id is answered with the first result and executed once") {
    Running r;
    r.client->clear();
    auto first = r.command("core/cfg/set", "core/evt/cfg_set_result",
                           R"({"request_id":"dup-1","set":{"heartbeat_s":40}})", "dup-1");
    CHECK(ok_of(first));
    // Change it with another request, then replay the first one.
    auto second = r.command("core/cfg/set", "core/evt/cfg_set_result",
                            R"({"request_id":"dup-2","set":{"heartbeat_s":50}})", "dup-2");
    CHECK(ok_of(second));
    r.client->clear();
    auto replay = r.command("core/cfg/set", "core/evt/cfg_set_result",
                            R"({"request_id":"dup-1","set":{"heartbeat_s":40}})", "dup-1");
    CHECK(replay.payload == first.payload);  // same ts too: republished, not re-run
    // Not executed again: no new cfg state, the config still says 50.
    r.command("core/cmd/ping", "core/evt/ping_result", R"({"request_id":"sync"})", "sync");
    CHECK(r.client->messages(r.agent.topic("core/cfg/state")).empty());
    r.command("core/cmd/refresh", "core/evt/refresh_result", R"({"request_id":"rf"})", "rf");
    auto cfg = r.client->wait_for(r.agent.topic("core/cfg/state"), any_message());
    REQUIRE(cfg);
    CHECK(cfg->json()["cfg"]["heartbeat_s"].GetInt() == 50);

    // Also for ping: the very same answer.
    auto p1 = r.command("core/cmd/ping", "core/evt/ping_result", R"({"request_id":"pp"})", "pp");
    r.client->clear();
    auto p2 = r.command("core/cmd/ping", "core/evt/ping_result", R"({"request_id":"pp"})", "pp");
    CHECK(p1.payload == p2.payload);
}
