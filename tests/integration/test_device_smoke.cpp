// What a device needs of a build before anything else (README "Devices"): the agent comes
// online, installs a plugin, answers ping and the plugin's own command, and lucidctl talks to
// it; a plugin of another architecture is refused naming both. scripts/cross.sh runs this file
// with the cross-built agent, lucidctl and plugins under qemu-user against this machine's
// mosquitto (the harness puts the emulator in front: process.hpp, with_emulator()); the native
// suite runs it as is.
#include <doctest/doctest.h>

#include <elf.h>

#include <cstdlib>
#include <cstring>
#include <fstream>

#include "component_rig.hpp"
#include "ctl_runner.hpp"
#include "synthetic_elf.hpp"

using namespace lucid::itest;
namespace fs = std::filesystem;

namespace {

// The ELF machine of this test program: the agent's, since both come from one build.
std::uint16_t own_machine() {
    std::ifstream in("/proc/self/exe", std::ios::binary);
    char header[20] = {};
    in.read(header, sizeof header);
    std::uint16_t machine = 0;
    std::memcpy(&machine, header + 18, sizeof machine);
    return machine;
}

// The platform tag's name of an ELF machine, as the agent's refusal says it.
std::string arch_name(std::uint16_t machine) {
    switch (machine) {
        case EM_X86_64:
            return "x86_64";
        case EM_AARCH64:
            return "aarch64";
        case EM_ARM:
            return "armv7l";
        case EM_RISCV:
            return "riscv64";
        default:
            return "ELF machine " + std::to_string(machine);
    }
}

// A plugin of another architecture: LUCID_TEST_FOREIGN_PLUGIN when given (cross.sh: a real
// build for the machine it runs on, while the agent under test is the cross-built one), else
// the echo plugin's manifest in a synthetic ELF of another machine and class (no cross
// compiler needed). `arch` is what the refusal must call it.
struct Foreign {
    Artifact artifact;
    std::string arch;
};

Foreign foreign_plugin(const TempDir& dir) {
    if (const char* given = std::getenv("LUCID_TEST_FOREIGN_PLUGIN"); given && *given) {
        const char* arch = std::getenv("LUCID_TEST_FOREIGN_ARCH");
        REQUIRE_MESSAGE(arch, "LUCID_TEST_FOREIGN_ARCH names the architecture of " << given);
        return {artifact(given), arch};
    }
    const bool arm32 = own_machine() == EM_ARM;
    const std::string name = arm32 ? "lucid_agent_echo-1.0.0-linux_aarch64.so"
                                   : "lucid_agent_echo-1.0.0-linux_armv7l.so";
    write_bytes(dir / name, lucid::test::synthetic_elf(
                                arm32 ? ELFCLASS64 : ELFCLASS32, arm32 ? EM_AARCH64 : EM_ARM,
                                {{".lucid_manifest", lucid::test::lucid_manifest_text(
                                                         "lucid-agent-echo", "1.0.0", "echo")}}));
    return {artifact((dir / name).c_str()), arm32 ? "aarch64" : "armv7l"};
}

}  // namespace

TEST_CASE("the agent comes online, installs a plugin and answers ping and the plugin's command") {
    ComponentRig rig("device-1");
    rig.start_agent();
    const Message pong = rig.ping("smoke-ping");
    CHECK_MESSAGE(ok_of(pong), pong.payload);

    const Artifact echo = artifact(LUCID_ITEST_ECHO_1_0);
    const Message installed = rig.install("smoke-install", "echo", inline_source(echo));
    REQUIRE_MESSAGE(ok_of(installed), installed.payload << rig.agent.log());
    REQUIRE_MESSAGE(rig.wait_status("echo", "running"), rig.agent.log());
    rig.echo_answers("smoke-echo");

    // lucidctl, of the same build, against the same agent.
    const std::map<std::string, std::string> env{{"LUCID_MQTT_URL", rig.broker.url()},
                                                 {"LUCID_AGENT_ID", rig.agent.agent_id()}};
    const CtlOutcome ping = run_ctl({"ping"}, env);
    CHECK_MESSAGE(ping.code == 0, ping.output);
    const CtlOutcome called = run_ctl({"--json", "plugin", "call", "echo", "echo"}, env);
    CHECK_MESSAGE(called.code == 0, called.output << rig.agent.log());
    CHECK_MESSAGE(called.has("\"echo\""), called.output);
}

TEST_CASE("a plugin of another architecture is refused naming both architectures") {
    TempDir dir;
    const Foreign foreign = foreign_plugin(dir);
    ComponentRig rig("device-2");
    rig.start_agent();

    // In the agent's process and in a plugin runner alike: nothing of it reaches either.
    for (const char* isolation : {"in_process", "process"}) {
        const Message refused =
            rig.install(install_payload(std::string("arch-") + isolation, "echo",
                                        inline_source(foreign.artifact),
                                        std::string(R"(,"isolation":")") + isolation + "\""),
                        std::string("arch-") + isolation);
        CHECK_FALSE(ok_of(refused));
        const std::string error = error_of(refused);
        CHECK_MESSAGE(
            has_text(error, foreign.artifact.name + ": plugin architecture " + foreign.arch +
                                " does not match this agent (" + arch_name(own_machine()) + ")"),
            error);
    }
    std::error_code ec;
    CHECK((!fs::exists(rig.data() / "components", ec) ||
           fs::is_empty(rig.data() / "components", ec)));
    CHECK((!fs::exists(rig.data() / "registry.json", ec) ||
           rig.registry()["components"].ObjectEmpty()));
}
