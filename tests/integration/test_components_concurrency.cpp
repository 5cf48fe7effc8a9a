// A long install does not hold up the other commands (contract §3): while the local HTTP server
// holds a download after its first byte, ping, refresh, cfg/set and component commands are
// answered, and the
// install's result arrives only once the test releases the server.
#include <doctest/doctest.h>

#include "component_rig.hpp"
#include "http_server.hpp"

using namespace lucid::itest;

TEST_CASE("ping, refresh and cfg/set answer while a slow download holds an install") {
    HttpServer http;
    const Artifact echo = artifact(LUCID_ITEST_ECHO_1_0);
    const std::string path = "/slow/" + echo.name;
    http.serve(path, echo.bytes);
    http.hold(path);
    ComponentRig rig("conc-1");
    rig.start_agent();

    const std::string result_topic = rig.agent.topic("core/evt/components/install_result");
    rig.client->publish(rig.agent.topic("core/cmd/components/install"),
                        install_payload("slow-1", "echo", url_source(http.url(path), echo.sha256)));
    REQUIRE_MESSAGE(http.wait_held(1, std::chrono::seconds(10)), rig.agent.log());

    // The download is stuck after one byte, so every answer below came while it was in progress.
    auto ping = rig.ping("during-1");
    CHECK(ok_of(ping));
    auto refresh = rig.command("core/cmd/refresh", "core/evt/refresh_result",
                               R"({"request_id":"during-2"})", "during-2");
    CHECK(ok_of(refresh));
    auto cfg = rig.command("core/cfg/set", "core/evt/cfg_set_result",
                           R"({"request_id":"during-3","set":{"heartbeat_s":45}})", "during-3");
    CHECK(ok_of(cfg));
    // Component commands have a lane of their own: they do not wait for the download either.
    auto stop = rig.command("core/cmd/components/stop", "core/evt/components/stop_result",
                            R"({"request_id":"during-4","component_id":"ghost"})", "during-4");
    CHECK(stop.str("error") == "component not found: ghost");
    // The first byte was reported as progress; no result yet.
    CHECK(rig.client->wait_for(rig.agent.topic("core/evt/components/install_progress"),
                               [&](const Message& m) {
                                   return m.str("request_id") == "slow-1" &&
                                          m.json()["total"].GetUint64() == echo.bytes.size();
                               }));
    CHECK(rig.client->messages(result_topic).empty());
    CHECK(http.requests(path) == 1);

    http.release();
    auto installed = rig.client->wait_for(result_topic, with_request_id("slow-1"));
    REQUIRE_MESSAGE(installed, rig.agent.log());
    CHECK_MESSAGE(ok_of(*installed), installed->payload);
    CHECK(installed->received > ping.received);
    CHECK(rig.wait_status("echo", "running", "1.0.0"));
}
