// The modes of what the agent keeps on disk (SECURITY.md, "Files on disk"). The test runs with
// umask 000, which the agent inherits: every mode checked here can only come from the code.
#include <doctest/doctest.h>

#include <sys/stat.h>

#include "component_rig.hpp"

using namespace lucid::itest;
namespace fs = std::filesystem;

namespace {

unsigned mode_of(const fs::path& path) {
    struct stat st {};
    REQUIRE_MESSAGE(::stat(path.c_str(), &st) == 0, path);
    return st.st_mode & 07777;
}

#define CHECK_MODE(path, expected) \
    CHECK_MESSAGE(mode_of(path) == (expected), (path) << " has mode " << std::oct << mode_of(path))

}  // namespace

TEST_CASE("the data directory and what the agent writes get explicit modes whatever the umask") {
    ::umask(0);
    const Artifact echo = artifact(LUCID_ITEST_ECHO_1_0);
    const Artifact probe = artifact(LUCID_ITEST_PROBE);
    ComponentRig rig("modes-1");
    // A drop-in anyone may write to still becomes a library only the agent can change.
    fs::create_directories(rig.data() / "plugins.d");
    fs::copy_file(probe.path, rig.data() / "plugins.d" / probe.name);
    fs::permissions(rig.data() / "plugins.d" / probe.name, fs::perms::all);
    rig.start_agent();
    REQUIRE(rig.wait_status("probe", "running", "1.0.0"));
    REQUIRE(ok_of(rig.install("modes-echo", "echo", inline_source(echo))));
    REQUIRE(
        ok_of(rig.command("core/cfg/set", "core/evt/cfg_set_result",
                          R"({"request_id":"modes-cfg","set":{"heartbeat_s":60}})", "modes-cfg")));

    const fs::path data = rig.data();
    CHECK_MODE(data, 0750u);
    CHECK_MODE(data / "staging", 0700u);
    CHECK_MODE(data / "starting", 0750u);
    for (const auto& [dist, file] :
         {std::pair{"lucid-agent-echo", echo.name}, std::pair{"lucid-itest-probe", probe.name}}) {
        CHECK_MODE(data / "components" / dist, 0750u);
        CHECK_MODE(data / "components" / dist / "1.0.0", 0750u);
        CHECK_MODE(data / "components" / dist / "1.0.0" / file, 0640u);
    }
    CHECK_MODE(data / "components", 0750u);
    CHECK_MODE(data / "registry.json", 0640u);
    CHECK_MODE(data / "registry.lock", 0640u);
    CHECK_MODE(data / "core_config.json", 0640u);
    CHECK_MODE(data / "session", 0640u);
    CHECK_MODE(data / "request_log.json", 0600u);
    CHECK_MODE(data / "request_log.journal", 0600u);
    CHECK_MODE(data / "agent.lock", 0640u);
}

TEST_CASE("a data directory writable by any user is tightened when the agent starts") {
    ::umask(0);
    ComponentRig rig("modes-2");
    const fs::path data = rig.data();
    // plugins.d too: an install channel any user could write to is anyone's install.
    for (const auto& dir : {data, data / "components", data / "staging", data / "plugins.d"}) {
        fs::create_directories(dir);
        fs::permissions(dir, fs::perms::all);
    }
    rig.start_agent();
    CHECK_MODE(data / "plugins.d", 0750u);
    CHECK_MODE(data, 0750u);
    CHECK_MODE(data / "components", 0750u);
    CHECK_MODE(data / "staging", 0700u);
    CHECK_MESSAGE(
        has_text(rig.agent.log(), "was writable by any user (mode 0777); changed to 0750"),
        rig.agent.log());
}
