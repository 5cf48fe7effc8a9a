// Uninstall (contract §4): stop, unload, delete files, forget; unknown components are a noop;
// legacy entries without a dist_name need one in the payload (the exact migration error otherwise).
#include <doctest/doctest.h>

#include "component_rig.hpp"

using namespace lucid::itest;
namespace fs = std::filesystem;

namespace {

std::string uninstall_payload(const std::string& request_id, const std::string& cid,
                              const std::string& extra = "") {
    return R"({"request_id":")" + request_id + R"(","component_id":)" + json_string(cid) + extra +
           "}";
}

}  // namespace

TEST_CASE("uninstall stops, unloads, deletes and forgets a component") {
    const Artifact echo = artifact(LUCID_ITEST_ECHO_1_0);
    ComponentRig rig("un-1");
    rig.start_agent();
    REQUIRE(ok_of(rig.install("un-install", "echo", inline_source(echo))));
    REQUIRE(rig.wait_status("echo", "running", "1.0.0"));
    rig.client->clear();

    auto m = rig.uninstall(uninstall_payload("un-echo", "echo"), "un-echo");
    REQUIRE_MESSAGE(ok_of(m), m.payload);
    auto doc = m.json();
    CHECK(std::string(doc["component_id"].GetString()) == "echo");
    CHECK(std::string(doc["dist_name"].GetString()) == "lucid-agent-echo");
    CHECK(std::string(doc["version"].GetString()) == "1.0.0");
    CHECK_FALSE(flag_of(m, "noop"));
    CHECK_FALSE(flag_of(m, "restart_required"));

    CHECK(registry_entry(rig.registry(), "echo").empty());
    CHECK_FALSE(fs::exists(rig.data() / "components" / "lucid-agent-echo"));
    // The retained snapshots of the component are deleted (empty retained message) ...
    CHECK(rig.client->wait_for(rig.agent.topic("components/echo/status"),
                               [](const Message& s) { return s.payload.empty(); }));
    CHECK(rig.client->wait_for(rig.agent.topic("components/echo/cfg/state"),
                               [](const Message& s) { return s.payload.empty(); }));
    // ... and core/components no longer lists it.
    CHECK(rig.client->wait_for(rig.agent.topic("core/components"), [](const Message& s) {
        return has_text(s.payload, R"("count":0)");
    }));

    auto again = rig.uninstall(uninstall_payload("un-again", "echo"), "un-again");
    CHECK(ok_of(again));
    CHECK(flag_of(again, "noop"));
    auto unknown = rig.uninstall(uninstall_payload("un-unknown", "never-installed"), "un-unknown");
    CHECK(ok_of(unknown));
    CHECK(flag_of(unknown, "noop"));
    auto invalid = rig.uninstall(uninstall_payload("un-invalid", "../echo"), "un-invalid");
    CHECK_FALSE(ok_of(invalid));
    CHECK(error_of(invalid) ==
          "validation_error: component_id '../echo' is invalid; allowed: "
          "[a-z0-9][a-z0-9_-]{0,63}");

    // Installable again after an uninstall.
    auto reinstall = rig.install("un-reinstall", "echo", inline_source(echo));
    CHECK_MESSAGE(ok_of(reinstall), reinstall.payload);
    CHECK_FALSE(flag_of(reinstall, "noop"));
}

TEST_CASE("uninstalling a legacy entry without dist_name needs one in the payload") {
    ComponentRig rig("un-2");
    fs::create_directories(rig.data());
    fs::copy_file(fs::path(LUCID_FIXTURES) / "legacy-registry" / "v0.9-dist-name.json",
                  rig.data() / "registry.json");
    rig.start_agent();
    // Python wheels cannot run here; they are listed as unsupported.
    REQUIRE_MESSAGE(rig.wait_status("mystery", "unsupported"), rig.agent.log());

    const std::string missing =
        "registry missing dist_name for component; provide dist_name in uninstall payload for "
        "migration";
    auto without = rig.uninstall(uninstall_payload("leg-1", "mystery"), "leg-1");
    CHECK_FALSE(ok_of(without));
    CHECK(error_of(without) == missing);
    auto empty =
        rig.uninstall(uninstall_payload("leg-2", "mystery", R"(,"dist_name":"")"), "leg-2");
    CHECK(error_of(empty) == missing);
    auto traversal = rig.uninstall(
        uninstall_payload("leg-3", "mystery", R"(,"dist_name":"../../etc")"), "leg-3");
    CHECK_FALSE(ok_of(traversal));
    CHECK_MESSAGE(has_text(error_of(traversal), "validation_error: dist_name"), traversal.payload);
    CHECK_FALSE(registry_entry(rig.registry(), "mystery").empty());

    auto with = rig.uninstall(uninstall_payload("leg-4", "mystery", R"(,"dist_name":"Some_Thing")"),
                              "leg-4");
    CHECK_MESSAGE(ok_of(with), with.payload);
    CHECK(std::string(with.json()["dist_name"].GetString()) == "some-thing");

    // An entry that had its dist_name needs nothing more.
    auto cpu = rig.uninstall(uninstall_payload("leg-5", "cpu"), "leg-5");
    CHECK_MESSAGE(ok_of(cpu), cpu.payload);
    CHECK(std::string(cpu.json()["dist_name"].GetString()) == "lucid-agent-cpu");

    auto registry = rig.registry();
    CHECK(registry.HasMember("format"));
    CHECK(registry_entry(registry, "mystery").empty());
    CHECK(registry_entry(registry, "cpu").empty());
    CHECK_FALSE(registry_entry(registry, "led_strip").empty());
}
