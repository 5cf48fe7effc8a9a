// Where the drop-in directory crosses MQTT installs (issue 13 #4), each crossing with a real
// agent, and again after a restart (the next start is where a drop-in file used to take back
// what MQTT had changed). The rules (component_channel.hpp, README "Drop-in directory"): a
// component belongs to the channel that installed it last; an MQTT uninstall or install over a
// drop-in component moves its file aside under a hidden name; a drop-in file takes an MQTT
// component over only with a newer version, and never downgrades one the directory owns;
// deleting a drop-in file uninstalls only what the directory owns; hidden files are never
// loaded.
#include <doctest/doctest.h>

#include <csignal>
#include <string>

#include "dropin_rig.hpp"

using namespace lucid::itest;
namespace fs = std::filesystem;

namespace {

// The registry entry's `source.type` (the owning channel), "" when there is no entry.
std::string source_type(DropinRig& rig, const std::string& cid) {
    const auto registry = rig.registry();
    if (!registry.HasMember("components")) return "";
    const auto& components = registry["components"];
    auto entry = components.FindMember(cid.c_str());
    if (entry == components.MemberEnd() || !entry->value.HasMember("source")) return "";
    const auto& source = entry->value["source"];
    return source.HasMember("type") && source["type"].IsString() ? source["type"].GetString() : "";
}

void restart(DropinRig& rig) {
    rig.agent.stop(SIGTERM);
    rig.client->clear();
    rig.start_agent();
}

}  // namespace

TEST_CASE("an MQTT uninstall of a drop-in component moves its file aside; it stays uninstalled") {
    const Artifact v1 = artifact(LUCID_ITEST_ECHO_1_0);
    DropinRig rig("chan-uninstall");
    fs::copy_file(v1.path, rig.dropin() / v1.name);
    rig.start_agent();
    REQUIRE_MESSAGE(rig.wait_status("echo", "running", "1.0.0"), rig.agent.log());

    auto result = rig.uninstall(R"({"request_id":"cu-1","component_id":"echo"})", "cu-1");
    CHECK_MESSAGE(ok_of(result), result.payload);
    CHECK(rig.retained_deleted("echo"));
    CHECK_FALSE(fs::exists(rig.dropin() / v1.name));
    CHECK(read_bytes(rig.dropin() / ("." + v1.name + ".uninstalled")) == v1.bytes);

    restart(rig);
    rig.fence(true);  // the initial scan has been handled
    CHECK(registry_entry(rig.registry(), "echo").empty());
    CHECK_FALSE(rig.wait_status("echo", "running", "", std::chrono::milliseconds(0)));
}

TEST_CASE("an MQTT uninstall of a drop-in component sets its older files aside too") {
    // The older file yielded to the newer one while both were there; once the newer one is
    // set aside, it would install the uninstalled component again at the next start.
    const Artifact v1 = artifact(LUCID_ITEST_ECHO_1_0);
    const Artifact v2 = artifact(LUCID_ITEST_ECHO_2_0);
    DropinRig rig("chan-uninstall-all");
    fs::copy_file(v1.path, rig.dropin() / v1.name);
    fs::copy_file(v2.path, rig.dropin() / v2.name);
    rig.start_agent();
    REQUIRE_MESSAGE(rig.wait_status("echo", "running", "2.0.0"), rig.agent.log());

    auto result = rig.uninstall(R"({"request_id":"cua-1","component_id":"echo"})", "cua-1");
    CHECK_MESSAGE(ok_of(result), result.payload);
    CHECK_FALSE(fs::exists(rig.dropin() / v1.name));
    CHECK_FALSE(fs::exists(rig.dropin() / v2.name));

    restart(rig);
    rig.fence(true);  // the initial scan has been handled
    CHECK_MESSAGE(registry_entry(rig.registry(), "echo").empty(), rig.agent.log());
}

TEST_CASE("an MQTT install of another version takes a drop-in component over") {
    const Artifact v1 = artifact(LUCID_ITEST_ECHO_1_0);
    const Artifact v2 = artifact(LUCID_ITEST_ECHO_2_0);
    DropinRig rig("chan-takeover");
    fs::copy_file(v1.path, rig.dropin() / v1.name);
    rig.start_agent();
    REQUIRE_MESSAGE(rig.wait_registered("echo", "1.0.0"), rig.agent.log());
    CHECK(source_type(rig, "echo") == "dropin");

    auto result = rig.install("ct-1", "echo", inline_source(v2));
    CHECK_MESSAGE(ok_of(result), result.payload);
    CHECK(source_type(rig, "echo") == "inline");
    CHECK_FALSE(fs::exists(rig.dropin() / v1.name));
    CHECK(read_bytes(rig.dropin() / ("." + v1.name + ".superseded")) == v1.bytes);

    // Neither the move (a removal for the watcher) nor a restart touches what MQTT installed.
    restart(rig);
    REQUIRE(rig.wait_registered("echo", "2.0.0"));
    CHECK(rig.wait_status("echo", "running", "2.0.0"));
    rig.fence(true);  // the initial scan has been handled
    CHECK(source_type(rig, "echo") == "inline");
    rig.echo_answers("ct-2");
}

TEST_CASE(
    "an older or same-version drop-in file yields to MQTT with one WARN; deleting it "
    "uninstalls nothing; hidden files are never loaded") {
    const Artifact v1 = artifact(LUCID_ITEST_ECHO_1_0);
    const Artifact v2 = artifact(LUCID_ITEST_ECHO_2_0);
    const Artifact v21 = artifact(LUCID_ITEST_ECHO_2_1);
    DropinRig rig("chan-yield");
    rig.start_agent();
    auto result = rig.install("cy-1", "echo", inline_source(v2));
    REQUIRE_MESSAGE(ok_of(result), result.payload);

    rig.move_in(v1);                          // older
    rig.move_in(v2);                          // the same version
    rig.move_in(v21, "." + v21.name);         // newer, but hidden
    close_unchanged(rig.dropin() / v1.name);  // seen again: no second WARN
    rig.fence(true);
    const auto warning = [&](const Artifact& a) {
        return "drop-in " + (rig.dropin() / a.name).string() +
               " ignored: echo was installed over MQTT at version 2.0.0; a drop-in file takes it "
               "over only with a newer version";
    };
    std::string log = rig.agent.log();
    CHECK_MESSAGE(occurrences(log, warning(v1)) == 1, log);
    CHECK_MESSAGE(occurrences(log, warning(v2)) == 1, log);
    CHECK_MESSAGE(!has_text(log, v21.name), log);
    CHECK(source_type(rig, "echo") == "inline");
    CHECK(has_text(registry_entry(rig.registry(), "echo"), R"("version":"2.0.0")"));

    // At the next start: still MQTT's, one WARN each again, nothing more.
    restart(rig);
    CHECK(rig.wait_status("echo", "running", "2.0.0"));
    rig.fence(false);  // probe's file, dropped last, was handled: the initial scan is done
    rig.fence(true);
    log = rig.agent.log();
    CHECK_MESSAGE(occurrences(log, warning(v1)) == 1, log);
    CHECK_MESSAGE(occurrences(log, warning(v2)) == 1, log);

    // Deleting the files the directory does not own uninstalls nothing.
    fs::remove(rig.dropin() / v1.name);
    fs::remove(rig.dropin() / v2.name);
    rig.fence(false);
    CHECK(source_type(rig, "echo") == "inline");
    rig.echo_answers("cy-2");
}

TEST_CASE("a newer drop-in file upgrades an MQTT component; the directory then owns it") {
    const Artifact v1 = artifact(LUCID_ITEST_ECHO_1_0);
    const Artifact v2 = artifact(LUCID_ITEST_ECHO_2_0);
    DropinRig rig("chan-upgrade");
    rig.start_agent();
    auto result = rig.install("cn-1", "echo", inline_source(v1));
    REQUIRE_MESSAGE(ok_of(result), result.payload);

    rig.move_in(v2);
    REQUIRE_MESSAGE(rig.wait_status("echo", "running", "2.0.0"), rig.agent.log());
    REQUIRE(rig.wait_registered("echo", "2.0.0"));
    CHECK(source_type(rig, "echo") == "dropin");

    restart(rig);
    REQUIRE_MESSAGE(rig.wait_status("echo", "running", "2.0.0"), rig.agent.log());
    // Now the directory's: deleting its file uninstalls it.
    fs::remove(rig.dropin() / v2.name);
    CHECK_MESSAGE(rig.retained_deleted("echo"), rig.agent.log());
    CHECK(registry_entry(rig.registry(), "echo").empty());
}

TEST_CASE("an older drop-in file beside the one that runs never downgrades it, at no start") {
    const Artifact v1 = artifact(LUCID_ITEST_ECHO_1_0);
    const Artifact v2 = artifact(LUCID_ITEST_ECHO_2_0);
    DropinRig rig("chan-older");
    fs::copy_file(v2.path, rig.dropin() / v2.name);
    rig.start_agent();
    REQUIRE_MESSAGE(rig.wait_registered("echo", "2.0.0"), rig.agent.log());

    // An operator drops the old build back in without removing the new one.
    rig.move_in(v1);
    rig.fence(true);
    const std::string warning = "drop-in " + (rig.dropin() / v1.name).string() +
                                " ignored: echo runs version 2.0.0 from the drop-in file " +
                                (rig.dropin() / v2.name).string() +
                                "; an older drop-in file does not downgrade it";
    CHECK_MESSAGE(occurrences(rig.agent.log(), warning) == 1, rig.agent.log());
    CHECK_FALSE(has_text(rig.agent.log(), "installed as echo 1.0.0"));
    CHECK(has_text(registry_entry(rig.registry(), "echo"), R"("version":"2.0.0")"));

    // The initial scan sees both, the older name first: nothing is reinstalled.
    restart(rig);
    rig.fence(false);
    CHECK_MESSAGE(occurrences(rig.agent.log(), warning) == 1, rig.agent.log());
    CHECK_MESSAGE(!has_text(rig.agent.log(), "installed as echo"), rig.agent.log());
    CHECK(has_text(registry_entry(rig.registry(), "echo"), R"("version":"2.0.0")"));
    rig.echo_answers("co-1");
}
