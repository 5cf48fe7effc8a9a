// The drop-in directory (SPEC §7, issue 5 item 5) over a real agent: files already there at
// start are installed; a file moved in is installed; a newer version upgrades; removing the
// file the running version came from uninstalls; names that do not parse and bytes that are
// not a plugin are reported, never installed.
#include <doctest/doctest.h>

#include "component_rig.hpp"

using namespace lucid::itest;
namespace fs = std::filesystem;

namespace {

// The careful way in: write under a temporary name, then rename into place.
void move_in(const Artifact& a, const fs::path& dir) {
    const fs::path part = dir / (a.name + ".part");
    fs::copy_file(a.path, part);
    fs::rename(part, dir / a.name);
}

bool retained_deleted(ComponentRig& rig, const std::string& cid) {
    return rig.client
        ->wait_for(rig.agent.topic("components/" + cid + "/status"),
                   [](const Message& m) { return m.payload.empty(); })
        .has_value();
}

}  // namespace

TEST_CASE("drop-in files are installed, upgraded and uninstalled by the directory alone") {
    const Artifact probe = artifact(LUCID_ITEST_PROBE);
    const Artifact v1 = artifact(LUCID_ITEST_ECHO_1_0);
    const Artifact v2 = artifact(LUCID_ITEST_ECHO_2_0);
    ComponentRig rig("drop-1");
    const fs::path dir = rig.agent.data_dir() / "dropin";
    fs::create_directories(dir);
    fs::copy_file(probe.path, dir / probe.name);  // present before the agent starts
    rig.env["LUCID_PLUGIN_DIR"] = dir.string();
    rig.start_agent();

    REQUIRE_MESSAGE(rig.wait_status("probe", "running", "1.0.0"), rig.agent.log());
    REQUIRE(rig.wait_registered("probe", "1.0.0"));
    std::string entry = registry_entry(rig.registry(), "probe");
    CHECK(has_text(entry, R"("type":"dropin")"));
    CHECK(has_text(entry, json_string((dir / probe.name).string())));
    CHECK(has_text(entry, R"("sha256":")" + probe.sha256 + "\""));

    move_in(v1, dir);
    REQUIRE_MESSAGE(rig.wait_status("echo", "running", "1.0.0"), rig.agent.log());

    // A newer version dropped beside it upgrades the component.
    write_bytes(dir / v2.name, v2.bytes);
    REQUIRE_MESSAGE(rig.wait_status("echo", "running", "2.0.0"), rig.agent.log());
    REQUIRE(rig.wait_registered("echo", "2.0.0"));
    entry = registry_entry(rig.registry(), "echo");
    CHECK(has_text(entry, R"("version":"2.0.0")"));
    CHECK(has_text(entry, json_string((dir / v2.name).string())));
    auto answer = rig.plugin_command("echo", "echo", R"({"request_id":"d-1"})", "d-1");
    CHECK(answer);

    // Removing the older file changes nothing (it is not what runs); a name that does not parse
    // and a file that is not a plugin are refused. Then removing probe's file uninstalls it:
    // the directory's events are handled in order, so by then the three above were handled.
    fs::remove(dir / v1.name);
    write_bytes(dir / "noversion.so", v1.bytes);
    write_bytes(dir / "lucid_agent_echo-4.0.0.so", "not a plugin at all");
    fs::remove(dir / probe.name);
    CHECK_MESSAGE(retained_deleted(rig, "probe"), rig.agent.log());
    CHECK(registry_entry(rig.registry(), "probe").empty());
    CHECK_FALSE(fs::exists(rig.data() / "components" / "lucid-itest-probe"));

    entry = registry_entry(rig.registry(), "echo");
    CHECK(has_text(entry, R"("version":"2.0.0")"));
    const std::string log = rig.agent.log();
    CHECK_MESSAGE(has_text(log, "noversion.so"), log);
    CHECK_MESSAGE(has_text(log, "has no version"), log);
    CHECK_MESSAGE(has_text(log, "not an ELF file"), log);
    for (const auto& m : rig.client->messages(rig.agent.topic("components/echo/status"))) {
        CHECK(m.str("version") != "4.0.0");
    }

    // Removing the file the running version came from uninstalls it.
    fs::remove(dir / v2.name);
    CHECK_MESSAGE(retained_deleted(rig, "echo"), rig.agent.log());
    CHECK(registry_entry(rig.registry(), "echo").empty());
    CHECK_FALSE(fs::exists(rig.data() / "components" / "lucid-agent-echo"));
}
