// Version floors (issue 18, item 3; contract §8.12): an agent keeps, per dist, the highest
// version committed on it, and refuses to install anything lower unless the command says
// allow_downgrade. The floor survives uninstall, reinstall and restarts; the rollback of a failed
// upgrade is no downgrade and raises nothing; an agent of a data directory without floors seeds
// them from what is installed; a corrupt trust state refuses installs until it is moved aside;
// `lucid-agent floor reset` lowers a floor on site, and, run as root, leaves the files to the
// agent's user. Real agent, real broker, real plugins.
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "component_rig.hpp"
#include "process.hpp"
#include "temp_dir.hpp"

using namespace lucid::itest;
namespace fs = std::filesystem;

namespace {

const std::string kDist = "lucid-agent-echo";

// lucid-agent floor ... on the rig's data directory, as root on the device runs it.
std::pair<int, std::string> floor_cli(const ComponentRig& rig,
                                      const std::vector<std::string>& args) {
    std::vector<std::string> argv{LUCID_AGENT_BIN, "floor"};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.insert(argv.end(), {"--data-dir", rig.data().string()});
    return lucid::test::run_to_completion(argv, {{"LUCID_ENV_FILE", "/dev/null"}});
}

// lucid-agent floor ... on `data`, as root, or as the packaged unit's unprivileged user would.
constexpr unsigned kAgentUser = 65534;  // nobody:nogroup
std::pair<int, std::string> floor_at(const fs::path& data, const std::vector<std::string>& args,
                                     bool as_agent_user = false) {
    std::vector<std::string> argv;
    if (as_agent_user) {
        const std::string id = std::to_string(kAgentUser);
        argv = {"/usr/bin/setpriv", "--reuid=" + id, "--regid=" + id, "--clear-groups"};
    }
    argv.insert(argv.end(), {LUCID_AGENT_BIN, "floor"});
    argv.insert(argv.end(), args.begin(), args.end());
    argv.insert(argv.end(), {"--data-dir", data.string()});
    return lucid::test::run_to_completion(argv, {{"LUCID_ENV_FILE", "/dev/null"}});
}

std::string owner_of(const fs::path& path) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) return "missing";
    return std::to_string(st.st_uid) + ":" + std::to_string(st.st_gid);
}

std::string downgrade_refused(const std::string& version, const std::string& floor) {
    return "downgrade refused: " + kDist + " " + version + " < " + floor;
}

Message install_allowing(ComponentRig& rig, const std::string& request_id, const Artifact& a) {
    return rig.install(
        install_payload(request_id, "echo", inline_source(a), R"(,"allow_downgrade":true)"),
        request_id);
}

}  // namespace

TEST_CASE("a version below the floor is refused; allow_downgrade, and floor reset, let it in") {
    const Artifact v1 = artifact(LUCID_ITEST_ECHO_1_0);
    const Artifact v2 = artifact(LUCID_ITEST_ECHO_2_0);
    ComponentRig rig("floor-1");
    rig.start_agent();
    REQUIRE(ok_of(rig.install("fl-v1", "echo", inline_source(v1))));
    REQUIRE(ok_of(rig.install("fl-v2", "echo", inline_source(v2))));
    REQUIRE(rig.wait_status("echo", "running", "2.0.0"));

    auto down = rig.install("fl-down", "echo", inline_source(v1));
    CHECK_FALSE(ok_of(down));
    CHECK(error_of(down) == downgrade_refused("1.0.0", "2.0.0"));
    CHECK_FALSE(flag_of(down, "rolled_back"));
    CHECK(down.str("version") == "1.0.0");
    rig.echo_answers("fl-still-2");
    CHECK(has_text(rig.agent.log(), "error='" + downgrade_refused("1.0.0", "2.0.0") + "'"));
    // Seen remotely: core/components names each component's floor.
    auto listed = rig.client->wait_for(rig.agent.topic("core/components"), [](const Message& m) {
        auto doc = m.json();
        return doc["components"].IsObject() && doc["components"].HasMember("echo") &&
               doc["components"]["echo"]["floor"].IsString() &&
               std::string(doc["components"]["echo"]["floor"].GetString()) == "2.0.0";
    });
    CHECK_MESSAGE(listed, rig.agent.log());

    auto typed = rig.install(
        install_payload("fl-typed", "echo", inline_source(v1), R"(,"allow_downgrade":"yes")"),
        "fl-typed");
    CHECK(error_of(typed) == "validation_error: 'allow_downgrade' must be true or false");

    // Uninstalled, reinstalled, restarted: the floor stays.
    REQUIRE(ok_of(rig.uninstall(R"({"request_id":"fl-un","component_id":"echo"})", "fl-un")));
    CHECK(error_of(rig.install("fl-re", "echo", inline_source(v1))) ==
          downgrade_refused("1.0.0", "2.0.0"));
    REQUIRE(rig.agent.stop(SIGTERM) == 0);
    rig.start_agent();
    CHECK(error_of(rig.install("fl-restarted", "echo", inline_source(v1))) ==
          downgrade_refused("1.0.0", "2.0.0"));

    // On purpose: allowed, and the floor is still the highest version committed.
    auto allowed = install_allowing(rig, "fl-allowed", v1);
    CHECK_MESSAGE(ok_of(allowed), allowed.payload);
    CHECK(rig.wait_status("echo", "running", "1.0.0"));
    auto list = floor_cli(rig, {"list"});
    CHECK(list.first == 0);
    CHECK_MESSAGE(has_text(list.second, kDist + " 2.0.0\n"), list.second);

    // On site, with the agent running: floor reset lowers it; the next install follows.
    REQUIRE(ok_of(rig.uninstall(R"({"request_id":"fl-un2","component_id":"echo"})", "fl-un2")));
    CHECK(error_of(rig.install("fl-re2", "echo", inline_source(v1))) ==
          downgrade_refused("1.0.0", "2.0.0"));
    auto reset = floor_cli(rig, {"reset", kDist, "--to", "1.0.0"});
    CHECK_MESSAGE(reset.first == 0, reset.second);
    CHECK(has_text(reset.second, "floor of " + kDist + " set to 1.0.0 (was 2.0.0)"));
    auto after = rig.install("fl-after-reset", "echo", inline_source(v1));
    CHECK_MESSAGE(ok_of(after), after.payload);
    auto removed = floor_cli(rig, {"reset", kDist});
    CHECK(removed.first == 0);
    CHECK(has_text(removed.second, "floor of " + kDist + " removed (was 1.0.0)"));
    auto none = floor_cli(rig, {"reset", kDist});
    CHECK(none.first == 1);
    CHECK(has_text(none.second, "no floor for " + kDist));
    auto usage = floor_cli(rig, {"list", "--to", "1.0.0"});
    CHECK(usage.first == 2);
    CHECK(has_text(usage.second, "--to belongs to floor reset"));
}

TEST_CASE("a failed upgrade is rolled back, which is no downgrade, and raises no floor") {
    const Artifact v1 = artifact(LUCID_ITEST_ECHO_1_0);
    const Artifact v2 = artifact(LUCID_ITEST_ECHO_2_0);
    const Artifact fails = artifact(LUCID_ITEST_ECHO_3_1_FAILS);
    ComponentRig rig("floor-2");
    rig.env["LUCID_UPGRADE_HEALTH_MS"] = "20000";  // 3.1.0 fails 1 ms after its start
    rig.start_agent();
    REQUIRE(ok_of(rig.install("fr-v1", "echo", inline_source(v1))));
    auto failed = rig.install("fr-v31", "echo", inline_source(fails));
    CHECK_FALSE(ok_of(failed));
    CHECK(flag_of(failed, "rolled_back"));
    CHECK(rig.wait_status("echo", "running", "1.0.0"));
    rig.echo_answers("fr-back");
    auto list = floor_cli(rig, {"list"});
    CHECK_MESSAGE(has_text(list.second, kDist + " 1.0.0\n"), list.second);
    const Artifact throws = artifact(LUCID_ITEST_ECHO_3_0_THROWS);
    auto thrown = rig.install("fr-v30", "echo", inline_source(throws));
    CHECK(flag_of(thrown, "rolled_back"));
    list = floor_cli(rig, {"list"});
    CHECK_MESSAGE(has_text(list.second, kDist + " 1.0.0\n"), list.second);
    // A healthy upgrade waits its whole window: the default one from here.
    REQUIRE(rig.agent.stop(SIGTERM) == 0);
    rig.env.erase("LUCID_UPGRADE_HEALTH_MS");
    rig.start_agent();
    auto up = rig.install("fr-v2", "echo", inline_source(v2));  // below 3.x: still fine
    CHECK_MESSAGE(ok_of(up), up.payload);
}

TEST_CASE("a data directory without floors is seeded from what is installed at the start") {
    const Artifact v1 = artifact(LUCID_ITEST_ECHO_1_0);
    const Artifact v2 = artifact(LUCID_ITEST_ECHO_2_0);
    ComponentRig rig("floor-3");
    rig.start_agent();
    REQUIRE(ok_of(rig.install("fs-v2", "echo", inline_source(v2))));
    REQUIRE(rig.agent.stop(SIGTERM) == 0);
    // As an agent without floors left it.
    REQUIRE(fs::remove(rig.data() / "trust_state.json"));
    rig.start_agent();
    CHECK_MESSAGE(
        has_text(rig.agent.log(), "trust state " + (rig.data() / "trust_state.json").string() +
                                      " seeded from what is installed: " + kDist + " 2.0.0"),
        rig.agent.log());
    CHECK(error_of(rig.install("fs-v1", "echo", inline_source(v1))) ==
          downgrade_refused("1.0.0", "2.0.0"));
}

TEST_CASE("a corrupt trust state refuses every install until it is moved aside") {
    const Artifact v1 = artifact(LUCID_ITEST_ECHO_1_0);
    const Artifact v2 = artifact(LUCID_ITEST_ECHO_2_0);
    const Artifact v21 = artifact(LUCID_ITEST_ECHO_2_1);
    ComponentRig rig("floor-4");
    rig.start_agent();
    REQUIRE(ok_of(rig.install("fc-v2", "echo", inline_source(v2))));
    const fs::path trust = rig.data() / "trust_state.json";
    std::ofstream(trust, std::ios::trunc) << "{\"format\":1,\"floors\":{\"lucid-agent-echo\":";

    const std::string expected =
        "install refused: trust state " + trust.string() + " cannot be read: invalid JSON: ";
    auto refused = rig.install("fc-v21", "echo", inline_source(v21));  // an upgrade, even
    CHECK_MESSAGE(error_of(refused).rfind(expected, 0) == 0, error_of(refused));
    CHECK(has_text(error_of(refused), "move the file aside, start the agent"));
    rig.echo_answers("fc-still-2");
    // Seen remotely too: core/state is degraded, naming the file.
    rig.client->clear();
    rig.command("core/cmd/refresh", "core/evt/refresh_result", R"({"request_id":"fc-refresh"})",
                "fc-refresh");
    CHECK_MESSAGE(rig.client->wait_for(rig.agent.topic("core/state"),
                                       [&](const Message& m) {
                                           return m.str("state") == "degraded" &&
                                                  has_text(m.json_text("degraded_reasons"),
                                                           "trust state " + trust.string() +
                                                               " cannot be read");
                                       }),
                  rig.agent.log());
    auto list = floor_cli(rig, {"list"});
    CHECK(list.first == 1);
    CHECK(has_text(list.second, "trust state " + trust.string() + " cannot be read"));
    // A restart does not take it for "no floors" either.
    REQUIRE(rig.agent.stop(SIGTERM) == 0);
    rig.start_agent();
    CHECK(error_of(rig.install("fc-v1", "echo", inline_source(v1))).rfind(expected, 0) == 0);

    // The documented recovery: stop, move it aside, start: seeded from what is installed.
    REQUIRE(rig.agent.stop(SIGTERM) == 0);
    fs::rename(trust, rig.data() / "trust_state.bad.json");
    rig.start_agent();
    CHECK(error_of(rig.install("fc-v1b", "echo", inline_source(v1))) ==
          downgrade_refused("1.0.0", "2.0.0"));
    CHECK(ok_of(rig.install("fc-v21b", "echo", inline_source(v21))));
    // ... and a floor the old file held for a dist not installed now is put back by hand.
    const std::string cpu = "lucid-agent-cpu";
    auto put_back = floor_cli(rig, {"reset", cpu, "--to", "1.2.0"});
    CHECK_MESSAGE(put_back.first == 0, put_back.second);
    CHECK(put_back.second ==
          "floor of " + cpu + " set to 1.2.0 (was none) in " + trust.string() + "\n");
    auto restored = floor_cli(rig, {"list"});
    CHECK_MESSAGE(has_text(restored.second, cpu + " 1.2.0\n"), restored.second);
    auto none = floor_cli(rig, {"reset", "lucid-agent-net"});
    CHECK(none.first == 1);
    CHECK(has_text(none.second, "no floor for lucid-agent-net"));
}

TEST_CASE("run as root, floor reset and floor list leave the files to the agent's user") {
    // The packaged unit's data directory: the agent's user owns it, and root runs the CLI.
    REQUIRE_MESSAGE(::geteuid() == 0, "this test checks what root leaves behind");
    lucid::test::TempDir root;
    fs::permissions(root.path(), fs::perms(0755));  // mkdtemp made it 0700
    const fs::path data = root / "lucid";
    fs::create_directory(data);
    fs::permissions(data, fs::perms(0750));
    REQUIRE(::chown(data.c_str(), kAgentUser, kAgentUser) == 0);
    const fs::path file = data / "trust_state.json";
    const fs::path lock = data / "trust_state.lock";
    const std::string agents = std::to_string(kAgentUser) + ":" + std::to_string(kAgentUser);
    {  // As the agent seeded it: its user's, no lock file yet.
        std::ofstream(file) << "{\"format\":1,\"floors\":{\"" << kDist
                            << "\":{\"version\":\"2.0.0\"}}}\n";
        REQUIRE(::chown(file.c_str(), kAgentUser, kAgentUser) == 0);
        fs::permissions(file, fs::perms(0640));
    }

    auto list = floor_at(data, {"list"});
    CHECK_MESSAGE(list.first == 0, list.second);
    CHECK(owner_of(lock) == agents);  // created by root, given away
    auto reset = floor_at(data, {"reset", kDist, "--to", "1.0.0"});
    CHECK_MESSAGE(reset.first == 0, reset.second);
    CHECK(owner_of(file) == agents);  // replaced by root, given away
    CHECK(owner_of(lock) == agents);
    CHECK((fs::status(file).permissions() & fs::perms::all) == fs::perms(0640));

    // What the agent's user reads afterwards (every install reads it so).
    auto read = floor_at(data, {"list"}, true);
    CHECK_MESSAGE(read.first == 0, read.second);
    CHECK(read.second == kDist + " 1.0.0\n");

    // A file the user cannot open is no corrupt file: no advice to move it aside.
    REQUIRE(::chown(file.c_str(), 0, 0) == 0);
    auto denied = floor_at(data, {"list"}, true);
    CHECK(denied.first == 1);
    CHECK_MESSAGE(has_text(denied.second, "trust state " + file.string() + " cannot be read: "),
                  denied.second);
    CHECK(has_text(denied.second,
                   "Permission denied; installs are refused until the agent's user "
                   "can read and write it and trust_state.lock beside it"));
    CHECK_FALSE(has_text(denied.second, "move the file aside"));
    // What a root-owned file left by an older lucid-agent floor needs: any floor command as root.
    REQUIRE(floor_at(data, {"list"}).first == 0);
    CHECK(owner_of(file) == agents);
    CHECK(floor_at(data, {"list"}, true).first == 0);
}

TEST_CASE("a drop-in file below the floor is refused and logged") {
    const Artifact v1 = artifact(LUCID_ITEST_ECHO_1_0);
    const Artifact v2 = artifact(LUCID_ITEST_ECHO_2_0);
    ComponentRig rig("floor-5");
    rig.start_agent();
    REQUIRE(ok_of(rig.install("fd-v2", "echo", inline_source(v2))));
    REQUIRE(ok_of(rig.uninstall(R"({"request_id":"fd-un","component_id":"echo"})", "fd-un")));
    fs::copy_file(v1.path, rig.data() / "plugins.d" / v1.name);
    CHECK_MESSAGE(
        rig.agent.wait_for_log(downgrade_refused("1.0.0", "2.0.0"), std::chrono::seconds(10)),
        rig.agent.log());
    CHECK(rig.registry()["components"].ObjectEmpty());
}
