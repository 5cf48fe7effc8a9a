// The data directory as the operator reaches it: through a symlink (systemd's DynamicUser= with
// StateDirectory= makes /var/lib/lucid one), shared by mistake between two agents.
#include <doctest/doctest.h>

#include <signal.h>

#include <fstream>

#include "component_rig.hpp"

using namespace lucid::itest;
namespace fs = std::filesystem;

TEST_CASE("an agent started through a symlink to its data directory keeps its components") {
    const Artifact echo = artifact(LUCID_ITEST_ECHO_1_0);
    ComponentRig rig("data-link");
    rig.start_agent();
    REQUIRE(ok_of(rig.install("link-install", "echo", inline_source(echo))));
    REQUIRE(rig.wait_status("echo", "running", "1.0.0"));
    REQUIRE(rig.agent.stop(SIGTERM) == 0);

    const fs::path link = rig.agent.data_dir() / "data-link";
    fs::create_directory_symlink(rig.data(), link);
    rig.env["LUCID_DATA_DIR"] = link.string();
    rig.client->clear();
    rig.start_agent();
    CHECK_MESSAGE(rig.wait_status("echo", "running", "1.0.0"), rig.agent.log());
    rig.echo_answers("link-echo");
    CHECK(fs::exists(rig.data() / "components" / "lucid-agent-echo" / "1.0.0"));
    CHECK_MESSAGE(rig.agent.log().find("unreferenced") == std::string::npos, rig.agent.log());

    // Still there at the next start (an entry whose file went is dropped then).
    REQUIRE(rig.agent.stop(SIGTERM) == 0);
    rig.client->clear();
    rig.start_agent();
    CHECK_MESSAGE(rig.wait_status("echo", "running", "1.0.0"), rig.agent.log());
    CHECK(registry_entry(rig.registry(), "echo") != "");
}

TEST_CASE("a second agent on the same data directory exits 2 naming it and the holder's pid") {
    ComponentRig rig("data-shared");
    rig.start_agent();
    AgentHarness second(rig.broker, "data-shared-2");
    second.start({{"LUCID_DATA_DIR", rig.data().string()}});
    const auto code = second.process().wait_exit(std::chrono::seconds(10));
    REQUIRE_MESSAGE(code, second.log());
    CHECK(*code == 2);
    const std::string log = second.log();
    CHECK_MESSAGE(
        log.find("data directory " + rig.data().string() + " is in use") != std::string::npos, log);
    CHECK_MESSAGE(
        log.find("(pid " + std::to_string(rig.agent.process().pid()) + ")") != std::string::npos,
        log);
    // The first agent goes on undisturbed; once it stopped, the directory is free again.
    CHECK(ok_of(rig.ping("shared-ping")));
    REQUIRE(rig.agent.stop(SIGKILL) == 128 + SIGKILL);
    rig.client->subscribe(second.topic("status"));
    second.start({{"LUCID_DATA_DIR", rig.data().string()}});
    CHECK_MESSAGE(wait_online(*rig.client, second), second.log());
}

TEST_CASE("a corrupt registry is moved aside and the component files it named are kept") {
    const Artifact echo = artifact(LUCID_ITEST_ECHO_1_0);
    ComponentRig rig("data-corrupt");
    rig.start_agent();
    REQUIRE(ok_of(rig.install("corrupt-install", "echo", inline_source(echo))));
    REQUIRE(rig.agent.stop(SIGTERM) == 0);
    {
        std::ofstream(rig.data() / "registry.json", std::ios::trunc)
            << R"({"format":1,"components":{)";
    }
    rig.start_agent();
    const fs::path version = rig.data() / "components" / "lucid-agent-echo" / "1.0.0";
    CHECK_MESSAGE(rig.agent.wait_for_log("kept " + version.string(), std::chrono::seconds(10)),
                  rig.agent.log());
    // What the operator needs to put the moved-aside registry back is all still there.
    CHECK(fs::exists(version / echo.name));
    CHECK_MESSAGE(rig.agent.log().find("removed unreferenced") == std::string::npos,
                  rig.agent.log());
}
