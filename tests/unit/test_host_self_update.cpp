// The agent's own builds (host/self_update/): the state file, the launcher's decision (which
// build `lucid-agent run` becomes, the pending build's attempt, its rollback, a package upgrade
// winning), a commit, and which build directories a commit keeps (contract §8.15).
#include <doctest/doctest.h>

#include <fstream>

#include <rapidjson/document.h>

#include "install/elf_section_reader.hpp"
#include "self_update/agent_versions.hpp"
#include "self_update/commit_window.hpp"
#include "self_update/launch_decision.hpp"
#include "self_update/upgrade_request.hpp"
#include "self_update/version_probe.hpp"
#include "self_update/version_section.hpp"
#include "temp_dir.hpp"

using namespace lucid::host::self_update;
namespace fs = std::filesystem;

namespace {

const std::string kNow = "2026-12-02T03:00:00.000Z";

PendingVersion pending(const std::string& version, int attempts = 0) {
    PendingVersion p;
    p.version = version;
    p.attempts = attempts;
    p.request_id = "up-1";
    return p;
}

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("with no self-updated build the packaged binary runs itself and saves nothing") {
    const auto d = decide_launch({}, "0.1.0", kNow);
    CHECK_FALSE(d.exec_version);
    CHECK_FALSE(d.save);
    CHECK(d.state == AgentVersions{});
}

TEST_CASE("a pending build gets its start attempt counted before it is execed") {
    AgentVersions s;
    s.committed = "0.2.0";
    s.pending = pending("0.3.0");
    const auto d = decide_launch(s, "0.1.0", kNow);
    REQUIRE(d.exec_version);
    CHECK(*d.exec_version == "0.3.0");
    CHECK(d.exec_pending);
    CHECK(d.save);
    REQUIRE(d.state.pending);
    CHECK(d.state.pending->attempts == 1);
}

TEST_CASE("a pending build whose attempt is used up is rolled back to the committed build") {
    AgentVersions s;
    s.committed = "0.2.0";
    s.pending = pending("0.3.0", 1);
    const auto d = decide_launch(s, "0.1.0", kNow);
    REQUIRE(d.exec_version);
    CHECK(*d.exec_version == "0.2.0");
    CHECK_FALSE(d.exec_pending);
    CHECK(d.save);
    CHECK_FALSE(d.state.pending);
    REQUIRE(d.state.last_upgrade);
    CHECK(d.state.last_upgrade->version == "0.3.0");
    CHECK(d.state.last_upgrade->outcome == "rolled_back");
    CHECK(d.state.last_upgrade->request_id == "up-1");
    CHECK(d.state.last_upgrade->ts == kNow);
    CHECK_FALSE(d.state.last_upgrade->reported);
    CHECK(contains(d.state.last_upgrade->reason, "0.3.0 did not come up healthy"));
}

TEST_CASE("a rolled back pending build with nothing committed leaves the packaged binary") {
    AgentVersions s;
    s.pending = pending("0.3.0", 1);
    const auto d = decide_launch(s, "0.1.0", kNow);
    CHECK_FALSE(d.exec_version);
    CHECK(d.save);
    REQUIRE(d.state.last_upgrade);
    CHECK(d.state.last_upgrade->outcome == "rolled_back");
}

TEST_CASE("the committed build runs while it is newer than the packaged one") {
    AgentVersions s;
    s.committed = "0.2.0";
    const auto d = decide_launch(s, "0.1.0", kNow);
    REQUIRE(d.exec_version);
    CHECK(*d.exec_version == "0.2.0");
    CHECK_FALSE(d.save);
}

TEST_CASE("a package upgrade newer than every self-updated build wins") {
    AgentVersions s;
    s.committed = "0.2.0";
    CHECK_FALSE(decide_launch(s, "0.2.0", kNow).exec_version);
    CHECK_FALSE(decide_launch(s, "0.4.0", kNow).exec_version);
    s.pending = pending("0.3.0");
    const auto d = decide_launch(s, "0.4.0", kNow);
    CHECK_FALSE(d.exec_version);
    CHECK(d.save);
    REQUIRE(d.state.last_upgrade);
    CHECK(d.state.last_upgrade->outcome == "rolled_back");
    CHECK(contains(d.state.last_upgrade->reason, "package upgrade wins"));
}

TEST_CASE("semver decides which build is newer, not the text") {
    AgentVersions s;
    s.committed = "0.10.0";
    CHECK(decide_launch(s, "0.9.0", kNow).exec_version);
    s.committed = "1.0.0-rc.1";
    CHECK_FALSE(decide_launch(s, "1.0.0", kNow).exec_version);
}

TEST_CASE("a commit makes the pending build committed and keeps the one before as previous") {
    AgentVersions s;
    s.committed = "0.2.0";
    s.previous = "0.1.5";
    s.pending = pending("0.3.0", 1);
    const auto c = commit(s, "0.3.0", kNow);
    CHECK(c.committed == std::optional<std::string>("0.3.0"));
    CHECK(c.previous == std::optional<std::string>("0.2.0"));
    CHECK_FALSE(c.pending);
    REQUIRE(c.last_upgrade);
    CHECK(c.last_upgrade->outcome == "committed");
    CHECK(c.last_upgrade->request_id == "up-1");
    CHECK(c.last_upgrade->reason.empty());
}

TEST_CASE("the state file round-trips and refuses what it does not understand") {
    AgentVersions s;
    s.committed = "0.2.0";
    s.previous = "0.1.0";
    s.pending = pending("0.3.0", 1);
    s.last_upgrade = LastUpgrade{"0.2.0", "committed", "", kNow, "up-0", true};
    const auto parsed = parse_agent_versions(agent_versions_json(s));
    REQUIRE(parsed);
    CHECK(parsed.value() == s);

    CHECK(parse_agent_versions("{}"));
    for (const char* bad :
         {"", "[]", "{\"committed\":\"../../bin\"}", "{\"committed\":1}", "{\"future\":true}",
          "{\"pending\":{\"version\":\"0.3.0\"}}",
          "{\"pending\":{\"version\":\"0.3.0\",\"attempts\":-1,\"allowed\":1,"
          "\"request_id\":\"\"}}",
          "{\"last_upgrade\":{\"version\":\"0.3.0\",\"outcome\":\"maybe\",\"reason\":\"\","
          "\"ts\":\"\",\"request_id\":\"\",\"reported\":false}}",
          "{} {}"}) {
        CAPTURE(bad);
        CHECK_FALSE(parse_agent_versions(bad));
    }
}

TEST_CASE("a corrupt state file is an error naming it, a missing one is no state") {
    lucid::test::TempDir data;
    const auto none = load_agent_versions(data.path());
    REQUIRE(none);
    CHECK(none.value() == AgentVersions{});
    fs::create_directories(versions_dir(data.path()));
    std::ofstream(state_path(data.path())) << "{\"committed\":";
    const auto corrupt = load_agent_versions(data.path());
    REQUIRE_FALSE(corrupt);
    CHECK(contains(corrupt.error().message, state_path(data.path()).string()));
}

TEST_CASE("after a commit only the committed and the previous build directories are kept") {
    lucid::test::TempDir data;
    for (const char* v : {"0.1.0", "0.2.0", "0.3.0", "0.4.0"}) {
        fs::create_directories(version_dir(data.path(), v));
    }
    AgentVersions s;
    s.committed = "0.4.0";
    s.previous = "0.3.0";
    save_agent_versions(data.path(), s);
    remove_unnamed_builds(data.path(), s);
    CHECK_FALSE(fs::exists(version_dir(data.path(), "0.1.0")));
    CHECK_FALSE(fs::exists(version_dir(data.path(), "0.2.0")));
    CHECK(fs::exists(version_dir(data.path(), "0.3.0")));
    CHECK(fs::exists(version_dir(data.path(), "0.4.0")));
    CHECK(fs::exists(state_path(data.path())));
}

TEST_CASE("an upgrade payload takes an install's source and a semantic version only") {
    lucid::host::install::InstallSettings settings;
    auto parse = [&](const std::string& json) {
        rapidjson::Document doc;
        doc.Parse(json.c_str());
        return parse_upgrade_request(doc, settings);
    };
    const std::string sha(64, 'a');
    const auto ok = parse(
        R"({"version":"1.2.0","source":{"type":"url","url":"https://x/lucid-agent","sha256":")" +
        sha + R"("}})");
    REQUIRE(ok.request);
    CHECK(ok.request->version == "1.2.0");
    CHECK(ok.request->source.url == "https://x/lucid-agent");
    CHECK(parse(R"({"source":{}})").error == "validation_error: missing field 'version'");
    CHECK(parse(R"({"version":"../../bin","source":{}})").error ==
          "validation_error: 'version' must be a semantic version (like 1.4.0)");
    CHECK(parse(R"({"version":"1.2.0"})").error == "validation_error: missing field 'source'");
    CHECK(parse(R"({"version":"1.2.0","source":{"type":"url","url":"https://x/a"}})").error ==
          "validation_error: missing field 'source.sha256'");
    // A build published on the broker, as component artifacts are (install/broker_fetch.hpp).
    const auto broker = parse(
        R"({"version":"1.2.0","source":{"type":"broker","topic":"lucid/artifacts/lucid-agent/1.2.0/linux_x86_64","sha256":")" +
        sha + R"("}})");
    REQUIRE_MESSAGE(broker.request, broker.error);
    CHECK(broker.request->source.type == lucid::host::install::SourceType::broker);
    CHECK(broker.request->source.topic == "lucid/artifacts/lucid-agent/1.2.0/linux_x86_64");
}

TEST_CASE("a desired state's update has a request id of its own") {
    CHECK(desired_upgrade_id(7) == "desired revision 7");
    CHECK(is_desired_upgrade_id("desired revision 7"));
    CHECK_FALSE(is_desired_upgrade_id("up-7"));
}

TEST_CASE("the version a build prints is read from lucid-agent's --version line") {
    CHECK(printed_version("lucid-agent 1.2.3\n") == "1.2.3");
    CHECK(printed_version("lucid-agent 1.2.3-rc.1\nmore\n") == "1.2.3-rc.1");
    CHECK(printed_version("lucidctl 1.2.3\n") == "");
    CHECK(printed_version("lucid-agent 1.2.3") == "");
}

TEST_CASE("a build's --version is run with a time limit and its exit code checked") {
    lucid::test::TempDir dir;
    auto script = [&](const std::string& name, const std::string& body) {
        const fs::path p = dir.path() / name;
        std::ofstream(p) << "#!/bin/sh\n" << body << "\n";
        fs::permissions(p, fs::perms::owner_all);
        return p;
    };
    const auto good =
        probe_version(script("good", "echo lucid-agent 9.9.9"), std::chrono::seconds(5));
    REQUIRE(good);
    CHECK(printed_version(good.value()) == "9.9.9");
    const auto failing =
        probe_version(script("failing", "echo broken; exit 4"), std::chrono::seconds(5));
    REQUIRE_FALSE(failing);
    CHECK(contains(failing.error().message, "--version exited 4: broken"));
    const auto hung =
        probe_version(script("hung", "exec sleep 30"), std::chrono::milliseconds(200));
    REQUIRE_FALSE(hung);
    CHECK(contains(hung.error().message, "did not finish within 200 ms (killed)"));
}

TEST_CASE("a build of the agent must be an ELF executable for this machine") {
    CHECK(lucid::host::check_elf_program("/proc/self/exe").empty());
    lucid::test::TempDir dir;
    std::ofstream(dir.path() / "text") << "#!/bin/sh\n";
    CHECK(contains(lucid::host::check_elf_program(dir.path() / "text"), "not an ELF file"));
}

TEST_CASE("a build's version is read from its ELF section without running it") {
    // This test's own executable has no such section: the error names the file and section.
    const auto none = embedded_version("/proc/self/exe");
    REQUIRE_FALSE(none.ok());
    CHECK(none.error().message == "/proc/self/exe: has no section .lucid_agent_version");
    const auto not_elf = embedded_version("/etc/hostname");
    REQUIRE_FALSE(not_elf.ok());
    CHECK(not_elf.error().message.rfind("/etc/hostname: ", 0) == 0);
}
