// Component config (contract §3, §4; issue 5 item 4): `components/{cid}/cfg/set` merges into the
// stored config, the plugin validates it (the probe refuses "bad"), it is persisted and
// republished retained on `components/{cid}/cfg/state`; a refused config changes nothing.
#include <doctest/doctest.h>

#include <signal.h>

#include "component_rig.hpp"

using namespace lucid::itest;

namespace {

Message cfg_set(ComponentRig& rig, const std::string& cid, const std::string& request_id,
                const std::string& body) {
    return rig.command("components/" + cid + "/cfg/set",
                       "components/" + cid + "/evt/cfg_set_result",
                       R"({"request_id":")" + request_id + "\"" + body + "}", request_id);
}

std::string cfg_of(const Message& state) {
    auto doc = state.json();
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
    doc["cfg"].Accept(writer);
    return buffer.GetString();
}

}  // namespace

TEST_CASE("component config is validated by the plugin, persisted and retained") {
    const Artifact probe = artifact(LUCID_ITEST_PROBE);
    ComponentRig rig("cfg-1");
    rig.start_agent();
    auto installed = rig.install(install_payload("cfg-install", "probe", inline_source(probe),
                                                 R"(,"config":{"mode":"fast","n":1})"),
                                 "cfg-install");
    REQUIRE_MESSAGE(ok_of(installed), installed.payload);
    // The plugin starts with the config of the install.
    auto started =
        rig.client->wait_for(rig.agent.topic("components/probe/evt/started"), any_message());
    REQUIRE_MESSAGE(started, rig.agent.log());
    CHECK_MESSAGE(has_text(started->payload, R"("data":{"mode":"fast","n":1})"), started->payload);
    CHECK(rig.client->wait_for(rig.agent.topic("components/probe/cfg/state"), [](const Message& m) {
        return has_text(m.payload, R"("mode":"fast")");
    }));

    rig.client->clear();
    auto accepted = cfg_set(rig, "probe", "cfg-1", R"(,"set":{"mode":"slow"})");
    CHECK_MESSAGE(ok_of(accepted), accepted.payload);
    CHECK(has_text(accepted.payload, R"("applied":{"mode":"slow"})"));
    auto state = rig.client->wait_for(rig.agent.topic("components/probe/cfg/state"), any_message());
    REQUIRE(state);
    CHECK(cfg_of(*state) == R"({"n":1,"mode":"slow"})");
    auto seen = rig.plugin_command("probe", "config", R"({"request_id":"read-1"})", "read-1");
    REQUIRE(seen);
    CHECK(has_text(seen->payload, R"("config":{"n":1,"mode":"slow"})"));

    // Refused by the plugin: nothing changes, nothing is republished.
    rig.client->clear();
    auto refused = cfg_set(rig, "probe", "cfg-2", R"(,"set":{"mode":"bad"})");
    CHECK_FALSE(ok_of(refused));
    CHECK(error_of(refused) == "mode bad is refused");
    CHECK(has_text(registry_entry(rig.registry(), "probe"), R"("config":{"n":1,"mode":"slow"})"));
    auto unchanged = rig.plugin_command("probe", "config", R"({"request_id":"read-2"})", "read-2");
    REQUIRE(unchanged);
    CHECK(has_text(unchanged->payload, R"("config":{"n":1,"mode":"slow"})"));
    CHECK(rig.client->messages(rig.agent.topic("components/probe/cfg/state")).empty());

    // Malformed requests and unknown components.
    CHECK(error_of(cfg_set(rig, "probe", "cfg-3", "")) == "missing 'set' field in payload");
    CHECK(error_of(cfg_set(rig, "probe", "cfg-4", R"(,"set":[1])")) == "'set' must be an object");
    CHECK(error_of(cfg_set(rig, "ghost", "cfg-5", R"(,"set":{"a":1})")) ==
          "component not found: ghost");

    // Retained: a client arriving later gets the current config at once.
    MqttClient late(rig.broker.port());
    late.subscribe(rig.agent.topic("components/probe/cfg/state"));
    auto retained = late.wait_for(rig.agent.topic("components/probe/cfg/state"), any_message());
    REQUIRE(retained);
    CHECK(retained->retain);
    CHECK(cfg_of(*retained) == R"({"n":1,"mode":"slow"})");

    // Persisted: the plugin starts with it after an agent restart.
    REQUIRE(rig.agent.stop(SIGTERM) == 0);
    rig.client->clear();
    rig.start_agent();
    auto restarted =
        rig.client->wait_for(rig.agent.topic("components/probe/evt/started"), any_message());
    REQUIRE_MESSAGE(restarted, rig.agent.log());
    CHECK(has_text(restarted->payload, R"("data":{"n":1,"mode":"slow"})"));
    // Its start published before the agent's first connection; that is no failure.
    CHECK_MESSAGE(rig.wait_status("probe", "running", "1.0.0"), rig.agent.log());
    auto read = rig.plugin_command("probe", "config", R"({"request_id":"read-3"})", "read-3");
    REQUIRE(read);
    CHECK(has_text(read->payload, R"("config":{"n":1,"mode":"slow"})"));
}
