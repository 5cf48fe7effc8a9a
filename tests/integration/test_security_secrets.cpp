// Passwords never reach a log line or a payload: the agent runs with credentials in its broker
// URL (and the earlier agent's AGENT_PASSWORD), every message it publishes and everything it
// logs is searched for them.
#include <doctest/doctest.h>

#include <signal.h>

#include <vector>

#include "agent_harness.hpp"
#include "component_rig.hpp"
#include "http_server.hpp"

using namespace lucid::itest;

namespace {

constexpr const char* kPassword = "S3cr3t-Pa55w0rd";
constexpr const char* kEncoded = "S3cr3t-Pa55w0rd%21";  // "S3cr3t-Pa55w0rd!" percent-encoded

bool leaks(const std::string& text) { return text.find(kPassword) != std::string::npos; }

}  // namespace

TEST_CASE("the broker password appears in no payload and no log line") {
    Broker broker;  // anonymous: it accepts the credentials without checking them
    broker.start();
    MqttClient client(broker.port());
    client.subscribe("#");
    AgentHarness agent(broker, "secret-1");
    const std::string url =
        "mqtt://agent:" + std::string(kEncoded) + "@127.0.0.1:" + std::to_string(broker.port());
    agent.start({{"LUCID_MQTT_URL", url}});
    REQUIRE_MESSAGE(wait_online(client, agent), agent.log());

    // Exercise the paths that echo input back: results, errors, config.
    REQUIRE(send_command(client, agent, "core/cmd/ping", "core/evt/ping_result",
                         R"({"request_id":"p1"})", "p1"));
    REQUIRE(send_command(client, agent, "core/cfg/set", "core/evt/cfg_set_result",
                         R"({"request_id":"c1","set":{"log_level":"DEBUG"}})", "c1"));
    REQUIRE(send_command(client, agent, "core/cmd/refresh", "core/evt/refresh_result",
                         R"({"request_id":"r1"})", "r1"));
    CHECK(agent.stop(SIGTERM) == 0);

    const auto seen = client.all_messages();
    CHECK(seen.size() >= 8);  // snapshots, results, the offline status: the search had input
    for (const auto& m : seen) {
        CHECK_MESSAGE(!leaks(m.payload), m.topic);
    }
    const std::string log = agent.log();
    CHECK_FALSE(leaks(log));
    CHECK(log.find("agent:***@") != std::string::npos);  // the URL is logged, redacted

    auto [code, config] = run_to_completion(
        {LUCID_AGENT_BIN, "check-config"},
        {{"LUCID_MQTT_URL", url}, {"LUCID_ENV_FILE", "/dev/null"}, {"LUCID_AGENT_ID", "x"}});
    CHECK(code == 0);
    CHECK_FALSE(leaks(config));
    CHECK(config.find("***") != std::string::npos);
}

TEST_CASE("the earlier agent's AGENT_PASSWORD is redacted the same way") {
    auto [code, config] =
        run_to_completion({LUCID_AGENT_BIN, "check-config"}, {{"MQTT_HOST", "127.0.0.1"},
                                                              {"MQTT_PORT", "1883"},
                                                              {"AGENT_USERNAME", "legacy"},
                                                              {"AGENT_PASSWORD", kPassword},
                                                              {"LUCID_ENV_FILE", "/dev/null"},
                                                              {"LUCID_AGENT_ID", "x"}});
    CHECK(code == 0);
    CHECK_FALSE(leaks(config));
    CHECK(config.find("legacy") != std::string::npos);
}

TEST_CASE("install URL secrets: userinfo, presigned queries and repeated keys never stored") {
    // Issue 14 #11 and issue 13: a token as the URL's user name, a password with a raw `/`, a
    // signature in the query, a second "url" or "data_base64" behind the first.
    const std::vector<std::string> secrets{"T0KENUSER", "PASSW0RD", "S1GNATURE", "DUPSECRET",
                                           "DUPDATA"};
    HttpServer http;
    const Artifact echo = artifact(LUCID_ITEST_ECHO_1_0);
    const std::string host = "127.0.0.1:" + std::to_string(http.port());
    const std::string query = "?X-Amz-Signature=S1GNATURE&X-Amz-Expires=60";
    http.serve("/files/" + echo.name + query, echo.bytes);
    ComponentRig rig("secret-url");
    rig.start_agent();

    auto refused = [&](const std::string& id, const std::string& source) {
        auto m = rig.install(id, "echo", source);
        CHECK_MESSAGE(!ok_of(m), m.payload);
        return error_of(m);
    };
    // A 404 through a token URL: the error shows the URL redacted.
    CHECK(refused("s-404", url_source("http://T0KENUSER@" + host + "/missing/" + echo.name + query,
                                      echo.sha256)) ==
          "download failed: HTTP 404: http://***@" + host + "/missing/" + echo.name + "?***");
    // A password with a raw `/` is no URL: refused without being shown.
    const std::string slash =
        refused("s-slash",
                url_source("http://user:PASSW0RD/x@" + host + "/files/" + echo.name, echo.sha256));
    CHECK_MESSAGE(has_text(slash, "validation_error: 'source.url' is not a valid URL: "), slash);
    // Repeated keys: refused before anything reads them.
    const std::string good_url = "http://" + host + "/files/" + echo.name + query;
    CHECK(refused("s-dup-url", R"({"type":"url","url":)" + json_string(good_url) +
                                   R"(,"url":"http://u:)" + R"(DUPSECRET@)" + host + "/files/" +
                                   echo.name + R"(","sha256":")" + echo.sha256 + "\"}") ==
          "validation_error: duplicate key 'url'");
    CHECK(refused("s-dup-data", R"({"type":"inline","filename":")" + echo.name +
                                    R"(","data_base64":")" + base64(echo.bytes) +
                                    R"(","data_base64":")" + base64("DUPDATA") + R"(","sha256":")" +
                                    echo.sha256 + "\"}") ==
          "validation_error: duplicate key 'data_base64'");

    // Installed through a token URL with a presigned query: stored and published redacted.
    auto ok = rig.install(
        "s-ok", "echo",
        url_source("http://T0KENUSER@" + host + "/files/" + echo.name + query, echo.sha256));
    REQUIRE_MESSAGE(ok_of(ok), ok.payload);
    REQUIRE(rig.wait_registered("echo", "1.0.0"));
    CHECK(has_text(registry_entry(rig.registry(), "echo"),
                   R"("url":"http://***@)" + host + "/files/" + echo.name + "?***\""));
    CHECK(http.requests("/files/" + echo.name + query) == 1);  // the real URL was requested
    CHECK(rig.agent.stop(SIGTERM) == 0);

    auto leaked = [&](const std::string& text) {
        for (const auto& s : secrets) {
            if (has_text(text, s)) return s;
        }
        return std::string();
    };
    for (const auto& m : rig.client->all_messages()) {
        if (has_text(m.topic, "/cmd/")) continue;  // what the test sent
        CHECK_MESSAGE(leaked(m.payload).empty(), m.topic << ": " << m.payload);
    }
    for (const char* file : {"registry.json", "request_log.json"}) {
        CHECK_MESSAGE(leaked(read_bytes(rig.data() / file)).empty(), file);
    }
    CHECK_MESSAGE(leaked(rig.agent.log()).empty(), rig.agent.log());
}

TEST_CASE("repeated keys and request_ids that are not UTF-8 are refused on every command topic") {
    ComponentRig rig("secret-dup");
    rig.start_agent();
    REQUIRE(ok_of(rig.install("dup-echo", "echo", inline_source(artifact(LUCID_ITEST_ECHO_1_0)))));
    struct Case {
        std::string command;
        std::string result;
        std::string payload;
        std::string request_id;
        std::string error;
    };
    const Case cases[] = {
        {"core/cfg/set", "core/evt/cfg_set_result",
         R"({"request_id":"d1","set":{"heartbeat_s":5,"heartbeat_s":60}})", "d1",
         "validation_error: duplicate key 'heartbeat_s'"},
        {"core/cmd/ping", "core/evt/ping_result", R"({"request_id":"d2","x":[{"a":1,"a":1}]})",
         "d2", "validation_error: duplicate key 'a'"},
        {"core/cmd/components/stop", "core/evt/components/stop_result",
         R"({"request_id":"d3","component_id":"echo","component_id":"other"})", "d3",
         "validation_error: duplicate key 'component_id'"},
        {"components/echo/cfg/set", "components/echo/evt/cfg_set_result",
         R"({"request_id":"d4","set":{"k":1,"k":2}})", "d4", "validation_error: duplicate key 'k'"},
        {"components/echo/cmd/echo", "components/echo/evt/echo_result",
         R"({"request_id":"d5","message":"a","message":"b"})", "d5",
         "validation_error: duplicate key 'message'"},
        {"core/cmd/ping", "core/evt/ping_result", R"({"request_id":"a","request_id":"b"})", "",
         "validation_error: duplicate key 'request_id'"},
        {"core/cmd/ping", "core/evt/ping_result", R"({"request_id":"\udc00"})", "",
         "validation_error: request_id is not valid UTF-8"},
        {"components/echo/cmd/echo", "components/echo/evt/echo_result",
         R"({"request_id":"\udc01"})", "", "validation_error: request_id is not valid UTF-8"},
    };
    for (const auto& c : cases) {
        CAPTURE(c.payload);
        rig.client->clear();
        rig.client->publish(rig.agent.topic(c.command), c.payload);
        auto m = rig.client->wait_for(rig.agent.topic(c.result), any_message());
        REQUIRE_MESSAGE(m, rig.agent.log());
        CHECK(m->str("request_id") == c.request_id);
        CHECK_FALSE(ok_of(*m));
        CHECK(error_of(*m) == c.error);
    }
    // Nothing ran: echo still runs, the heartbeat was not changed.
    rig.echo_answers("dup-after");
    CHECK(rig.registry()["components"]["echo"]["config"].ObjectEmpty());
}
