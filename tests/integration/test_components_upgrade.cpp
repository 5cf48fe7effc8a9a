// Upgrades (contract §4, issue 5 item 3): another version of an installed component replaces the
// running one, the replaced version is kept for rollback and older ones are cleaned up; a new
// version that throws in start() or reports failed inside the health window is rolled back:
// the old version runs again, the registry is unchanged, the result says rolled_back:true.
#include <doctest/doctest.h>

#include "component_rig.hpp"

using namespace lucid::itest;
namespace fs = std::filesystem;

namespace {

const std::string kDist = "lucid-agent-echo";

fs::path version_dir(const ComponentRig& rig, const std::string& version) {
    return rig.data() / "components" / kDist / version;
}

std::string string_at(const rapidjson::Document& registry, const char* key,
                      const char* sub = nullptr) {
    const auto& entry = registry["components"]["echo"];
    const auto& value = sub ? entry[key][sub] : entry[key];
    return value.IsString() ? value.GetString() : "";
}

}  // namespace

TEST_CASE("an upgrade replaces the running version and keeps only the replaced one") {
    const Artifact v1 = artifact(LUCID_ITEST_ECHO_1_0);
    const Artifact v2 = artifact(LUCID_ITEST_ECHO_2_0);
    const Artifact v21 = artifact(LUCID_ITEST_ECHO_2_1);
    ComponentRig rig("up-1");
    rig.start_agent();

    REQUIRE(ok_of(rig.install("up-v1", "echo", inline_source(v1))));
    REQUIRE(rig.wait_status("echo", "running", "1.0.0"));

    auto up = rig.install("up-v2", "echo", inline_source(v2));
    REQUIRE_MESSAGE(ok_of(up), (up.payload + "\n" + rig.agent.log()));
    auto doc = up.json();
    CHECK(std::string(doc["version"].GetString()) == "2.0.0");
    CHECK(std::string(doc["sha256"].GetString()) == v2.sha256);
    CHECK(std::string(doc["dist_name"].GetString()) == kDist);
    CHECK_FALSE(flag_of(up, "noop"));
    CHECK_FALSE(flag_of(up, "rolled_back"));
    CHECK_FALSE(flag_of(up, "restart_required"));  // the old library really left the process
    CHECK(rig.wait_status("echo", "running", "2.0.0"));
    rig.echo_answers("after-v2");

    auto registry = rig.registry();
    CHECK(string_at(registry, "version") == "2.0.0");
    CHECK(string_at(registry, "previous", "version") == "1.0.0");
    CHECK(string_at(registry, "previous", "sha256") == v1.sha256);
    CHECK(fs::exists(version_dir(rig, "1.0.0") / v1.name));
    CHECK(fs::exists(version_dir(rig, "2.0.0") / v2.name));

    auto again = rig.install("up-v21", "echo", inline_source(v21));
    REQUIRE_MESSAGE(ok_of(again), again.payload);
    CHECK(rig.wait_status("echo", "running", "2.1.0"));
    rig.echo_answers("after-v21");
    registry = rig.registry();
    CHECK(string_at(registry, "version") == "2.1.0");
    CHECK(string_at(registry, "previous", "version") == "2.0.0");
    CHECK_FALSE(fs::exists(version_dir(rig, "1.0.0")));
    CHECK(fs::exists(version_dir(rig, "2.0.0")));
    CHECK(fs::exists(version_dir(rig, "2.1.0")));
    CHECK(rig.client->wait_for(rig.agent.topic("core/components"), [](const Message& m) {
        return has_text(m.payload, R"("version":"2.1.0")");
    }));
}

TEST_CASE("an upgrade that fails is rolled back and the old version runs again") {
    const Artifact v1 = artifact(LUCID_ITEST_ECHO_1_0);
    const Artifact throws = artifact(LUCID_ITEST_ECHO_3_0_THROWS);
    const Artifact fails = artifact(LUCID_ITEST_ECHO_3_1_FAILS);
    ComponentRig rig("up-2");
    // A window far longer than the 1 ms after which 3.1.0 fails, even on a loaded machine: the
    // rollback answers as soon as the failure is reported, so this costs no time.
    rig.env["LUCID_UPGRADE_HEALTH_MS"] = "20000";
    rig.start_agent();
    REQUIRE(ok_of(rig.install("rb-v1", "echo", inline_source(v1))));
    REQUIRE(rig.wait_status("echo", "running", "1.0.0"));
    const std::string entry_before = registry_entry(rig.registry(), "echo");
    REQUIRE_FALSE(entry_before.empty());

    struct Case {
        const Artifact* artifact;
        std::string version;
        std::string error;
    };
    for (const Case& c :
         {Case{&throws, "3.0.0", "echo 3.0.0 cannot open its device"},
          Case{&fails, "3.1.0",
               "the new version failed right after starting: echo 3.1.0 lost its device right "
               "after starting"}}) {
        CAPTURE(c.version);
        rig.client->clear();
        auto m = rig.install("rb-" + c.version, "echo", inline_source(*c.artifact));
        CHECK_FALSE(ok_of(m));
        CHECK(flag_of(m, "rolled_back"));
        CHECK_MESSAGE(has_text(error_of(m), c.error), error_of(m));
        CHECK(std::string(m.json()["version"].GetString()) == c.version);

        CHECK(rig.wait_status("echo", "running", "1.0.0"));
        rig.echo_answers("after-" + c.version);
        CHECK(registry_entry(rig.registry(), "echo") == entry_before);
        CHECK_FALSE(fs::exists(version_dir(rig, c.version)));
        CHECK(fs::exists(version_dir(rig, "1.0.0") / v1.name));
        // The last retained status is the old version running.
        auto statuses = rig.client->messages(rig.agent.topic("components/echo/status"));
        REQUIRE_FALSE(statuses.empty());
        CHECK(statuses.back().str("state") == "running");
        CHECK(statuses.back().str("version") == "1.0.0");
    }

    // A stopped component rolls back to stopped.
    REQUIRE(ok_of(rig.control("stop", "echo", "rb-stop")));
    rig.client->clear();
    auto m = rig.install("rb-stopped", "echo", inline_source(throws));
    CHECK_FALSE(ok_of(m));
    CHECK(flag_of(m, "rolled_back"));
    CHECK(rig.wait_status("echo", "stopped", "1.0.0"));
    CHECK(registry_entry(rig.registry(), "echo") == entry_before);
    REQUIRE(ok_of(rig.control("start", "echo", "rb-start")));
    rig.echo_answers("after-stopped-rollback");
}
