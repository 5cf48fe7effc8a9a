// lucidctl plugin install as an operator uses it: what lucidctl checks itself before sending
// (exit 2), what it leaves to the agent (file:// URLs name files on the agent's machine), the
// signature beside the file, the size cap, downgrades, rollbacks, and progress on a terminal.
#include <doctest/doctest.h>

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "component_rig.hpp"
#include "ctl_runner.hpp"

using namespace lucid::itest;
namespace fs = std::filesystem;

namespace {

struct CtlRig : ComponentRig {
    lucid::test::TempDir files;
    std::map<std::string, std::string> ctl_env;
    explicit CtlRig(const std::string& id) : ComponentRig(id) {
        ctl_env = {{"LUCID_MQTT_URL", broker.url()}, {"LUCID_AGENT_ID", agent.agent_id()}};
    }
    CtlOutcome ctl(std::vector<std::string> args) { return run_ctl(args, ctl_env); }
    // A copy of a built plugin under another name.
    std::string copy(const char* built, const std::string& name) {
        const auto to = files.path() / name;
        fs::copy_file(built, to, fs::copy_options::overwrite_existing);
        return to.string();
    }
};

std::string sha_of(const char* built) { return sha256_hex(read_bytes(built)); }

}  // namespace

TEST_CASE("problems lucidctl can see itself are exit 2, before anything is sent") {
    CtlRig rig("ins-local");
    rig.start_agent();
    const std::string good = rig.copy(LUCID_ITEST_ECHO_1_0, "lucid_agent_echo-1.0.0.so");

    const auto no_version =
        rig.ctl({"plugin", "install", rig.copy(LUCID_ITEST_ECHO_1_0, "echo.so")});
    CHECK_MESSAGE(no_version.code == 2, no_version.output);
    CHECK(no_version.has("echo.so"));
    const auto mismatch =
        rig.ctl({"plugin", "install", rig.copy(LUCID_ITEST_ECHO_1_0, "lucid_agent_echo-9.9.9.so")});
    CHECK_MESSAGE(mismatch.code == 2, mismatch.output);
    CHECK(mismatch.has("manifest says"));
    const auto bad_sha = rig.ctl({"plugin", "install", good, "--sha256", "xyz"});
    CHECK(bad_sha.code == 2);
    CHECK(bad_sha.has("--sha256 must be 64 hex digits, got 'xyz'"));
    const auto other_sha = rig.ctl({"plugin", "install", good, "--sha256", std::string(64, 'a')});
    CHECK(other_sha.code == 2);
    CHECK(other_sha.has("does not match"));
    const auto other_id = rig.ctl({"plugin", "install", good, "--id", "other"});
    CHECK(other_id.code == 2);
    CHECK(other_id.has("--id 'other' does not match the component id 'echo'"));
    const auto missing =
        rig.ctl({"plugin", "install", rig.files.path().string() + "/nope-1.0.0.so"});
    CHECK(missing.code == 2);
    CHECK(missing.has("nope-1.0.0.so"));
    // A FIFO, as the file or as its .sig, is refused at once (the manifest read blocked for
    // ever), and so is a directory.
    const fs::path fifo = rig.files.path() / "lucid_agent_echo-3.0.0.so";
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    const auto fifo_file = rig.ctl({"plugin", "install", fifo.string()});
    CHECK_MESSAGE(fifo_file.code == 2, fifo_file.output);
    CHECK(fifo_file.has(fifo.string() + " is not a regular file"));
    const auto fifo_inspect = rig.ctl({"plugin", "inspect", fifo.string()});
    CHECK_MESSAGE(fifo_inspect.code == 2, fifo_inspect.output);
    CHECK(fifo_inspect.has("is not a regular file"));
    REQUIRE(::mkfifo((good + ".sig").c_str(), 0600) == 0);
    const auto fifo_sig = rig.ctl({"plugin", "install", good});
    CHECK_MESSAGE(fifo_sig.code == 2, fifo_sig.output);
    CHECK(fifo_sig.has("cannot read the signature " + good + ".sig"));
    fs::remove(good + ".sig");
    // Nothing reached the agent.
    CHECK(rig.client->messages(rig.agent.topic("core/evt/components/install_result")).empty());
}

TEST_CASE("a URL needs --id and --sha256; file:// names a file on the agent's machine") {
    CtlRig rig("ins-url");
    rig.start_agent();
    const auto no_id = rig.ctl(
        {"plugin", "install", "https://example.com/x-1.0.0.so", "--sha256", std::string(64, 'a')});
    CHECK(no_id.code == 2);
    CHECK(no_id.has("--id is mandatory for a URL"));
    CHECK(rig.ctl({"plugin", "install", "https://example.com/x-1.0.0.so", "--id", "x"}).code == 2);
    const auto help = rig.ctl({"plugin", "install", "--help"});
    CHECK(help.has("URL --id ID --sha256 HEX"));

    // lucidctl does not look for the file: the agent does, and says it is not there.
    const auto absent =
        rig.ctl({"plugin", "install", "file:///nonexistent/lucid_agent_echo-1.0.0.so", "--id",
                 "echo", "--sha256", sha_of(LUCID_ITEST_ECHO_1_0)});
    CHECK_MESSAGE(absent.code == 1, absent.output);
    CHECK(absent.has("install failed: "));
    const auto present =
        rig.ctl({"plugin", "install", std::string("file://") + LUCID_ITEST_ECHO_1_0, "--id", "echo",
                 "--sha256", sha_of(LUCID_ITEST_ECHO_1_0)});
    CHECK_MESSAGE(present.code == 0, present.output);
}

TEST_CASE("a signature beside the file is sent with it, as base64 text or raw bytes") {
    SigningKey trusted;
    CtlRig rig("ins-sig");
    const fs::path keys = rig.agent.data_dir() / "trusted-keys";
    trusted.write_public_pem(keys, "release");
    rig.env["LUCID_TRUSTED_KEYS_DIR"] = keys.string();
    rig.env["LUCID_SIGNATURE_POLICY"] = "required";
    rig.start_agent();

    const std::string v1 = rig.copy(LUCID_ITEST_ECHO_1_0, "lucid_agent_echo-1.0.0.so");
    const std::string signature = trusted.sign_base64(read_bytes(v1));
    std::ofstream(v1 + ".sig") << signature << "\n";
    const auto text = rig.ctl({"plugin", "install", v1});
    CHECK_MESSAGE(text.code == 0, text.output << rig.agent.log());
    CHECK(text.has("sending the signature " + v1 + ".sig"));

    const std::string v2 = rig.copy(LUCID_ITEST_ECHO_2_0, "lucid_agent_echo-2.0.0.so");
    const auto raw = run_to_completion({"/bin/bash", "-c",
                                        "printf %s '" + trusted.sign_base64(read_bytes(v2)) +
                                            "' | openssl base64 -d -A > '" + v2 + ".sig'"},
                                       {});
    REQUIRE(raw.first == 0);
    REQUIRE(fs::file_size(v2 + ".sig") == 64);
    const auto raw_install = rig.ctl({"plugin", "install", v2});
    CHECK_MESSAGE(raw_install.code == 0, raw_install.output << rig.agent.log());

    std::ofstream(v1 + ".sig", std::ios::trunc) << "not a signature\n";
    const auto garbage = rig.ctl({"plugin", "install", v1, "--force"});
    CHECK(garbage.code == 2);
    CHECK(garbage.has(".sig is not an Ed25519 signature"));
}

TEST_CASE("an inline artifact over max_artifact_bytes is refused before it is sent") {
    CtlRig rig("ins-cap");
    rig.start_agent();
    rig.ctl_env["LUCID_MAX_ARTIFACT_BYTES"] = "10K";
    const auto big = rig.ctl({"plugin", "install", LUCID_ITEST_ECHO_1_0});
    CHECK_MESSAGE(big.code == 2, big.output);
    CHECK(big.has("more than max_artifact_bytes (10.0 KiB, environment LUCID_MAX_ARTIFACT_BYTES)"));
    CHECK(big.has("install it from the URL"));
    CHECK(rig.client->messages(rig.agent.topic("core/evt/components/install_result")).empty());
}

TEST_CASE("a downgrade needs --force; a failed upgrade says it rolled back and what runs") {
    CtlRig rig("ins-down");
    rig.start_agent();
    REQUIRE(rig.ctl({"plugin", "install", LUCID_ITEST_ECHO_2_0}).code == 0);
    REQUIRE(rig.wait_registered("echo", "2.0.0"));
    const auto down = rig.ctl({"plugin", "install", LUCID_ITEST_ECHO_1_0});
    CHECK_MESSAGE(down.code == 2, down.output);
    CHECK(down.has("refusing to downgrade echo from 2.0.0 to 1.0.0 (add --force to downgrade)"));
    const auto forced = rig.ctl({"plugin", "install", LUCID_ITEST_ECHO_1_0, "--force"});
    CHECK_MESSAGE(forced.code == 0, forced.output);
    REQUIRE(rig.wait_registered("echo", "1.0.0"));

    const auto failed = rig.ctl({"plugin", "install", LUCID_ITEST_ECHO_3_0_THROWS});
    CHECK(failed.code == 1);
    CHECK(failed.has("install failed: "));
    CHECK_MESSAGE(failed.has("rolled back: echo 1.0.0 runs again"), failed.output);
}

TEST_CASE("on a terminal an inline install shows its upload and clears it before the result") {
    CtlRig rig("ins-tty");
    rig.start_agent();
    // script(1) gives lucidctl a terminal; its output comes back as the terminal saw it.
    std::string command =
        std::string("'") + LUCIDCTL_BIN + "' plugin install '" + LUCID_ITEST_ECHO_1_0 + "'";
    auto env = rig.ctl_env;
    env["LUCID_ENV_FILE"] = "/dev/null";
    const auto run = run_to_completion({"/usr/bin/script", "-qec", command, "/dev/null"}, env);
    const std::string& output = run.second;
    CHECK_MESSAGE(run.first == 0, output);
    CHECK_MESSAGE(output.find("uploading ") != std::string::npos, output);
    CHECK_MESSAGE(output.find("\r\x1b[Kinstall: ok") != std::string::npos, output);
}

TEST_CASE("lucidctl installs into a child process with limits, moves it back, and says why not") {
    CtlRig rig("ins-isolate");
    rig.start_agent();
    const std::string echo = rig.copy(LUCID_ITEST_ECHO_1_0, "lucid_agent_echo-1.0.0.so");

    const auto installed =
        rig.ctl({"plugin", "install", echo, "--isolation", "process", "--memory-mb", "256"});
    REQUIRE_MESSAGE(installed.code == 0, installed.output);
    auto status = rig.wait_status("echo", "running");
    REQUIRE(status);
    CHECK(status->str("isolation") == "process");
    const auto listed = rig.ctl({"plugin", "list"});
    CHECK_MESSAGE(listed.has("ISOLATION"), listed.output);
    CHECK(listed.has("process"));
    CHECK(has_text(registry_entry(rig.registry(), "echo"), R"("limits":{"memory_mb":256})"));

    const auto back = rig.ctl({"plugin", "isolate", "echo", "in_process"});
    CHECK_MESSAGE(back.code == 0, back.output);
    CHECK(back.has("isolation=in_process"));
    const auto limit_only = rig.ctl({"plugin", "isolate", "echo", "--open-files", "64"});
    CHECK_MESSAGE(limit_only.code == 0, limit_only.output);
    // Limits wait for process isolation, and the answer says so.
    CHECK(limit_only.has("limits apply in process isolation only"));

    const auto bad_mode = rig.ctl({"plugin", "isolate", "echo", "docker"});
    CHECK(bad_mode.code == 2);
    CHECK(bad_mode.has("isolation must be in_process or process, got 'docker'"));
    const auto bad_limit = rig.ctl({"plugin", "isolate", "echo", "--memory-mb", "0"});
    CHECK(bad_limit.code == 2);
    CHECK(bad_limit.has("--memory-mb must be a positive integer, got '0'"));
    const auto nothing = rig.ctl({"plugin", "isolate", "echo"});
    CHECK(nothing.code == 2);
    CHECK(nothing.has("plugin isolate needs in_process or process, a limit"));
    const auto unknown = rig.ctl({"plugin", "isolate", "nope", "process"});
    CHECK(unknown.code == 1);
    CHECK(unknown.has("component not found: nope"));
    const auto misplaced = rig.ctl({"plugin", "list", "--memory-mb", "5"});
    CHECK(misplaced.code == 2);
    CHECK(misplaced.has("option --memory-mb does not apply to 'plugin list'"));
}

TEST_CASE("lucidctl runs a child as an allowed user, back as the agent's, and says why not root") {
    CtlRig rig("ins-runas");
    rig.env["LUCID_RUN_AS_ALLOWED"] = "nobody";
    rig.start_agent();
    const std::string echo = rig.copy(LUCID_ITEST_ECHO_1_0, "lucid_agent_echo-1.0.0.so");
    const auto installed = rig.ctl({"plugin", "install", echo, "--isolation", "process"});
    REQUIRE_MESSAGE(installed.code == 0, installed.output);

    const auto root = rig.ctl({"plugin", "isolate", "echo", "--run-as", "root"});
    CHECK(root.code == 1);
    CHECK_MESSAGE(root.has("run_as not allowed: root (not in LUCID_RUN_AS_ALLOWED)"), root.output);
    const auto both =
        rig.ctl({"plugin", "isolate", "echo", "--run-as", "nobody", "--run-as-agent"});
    CHECK(both.code == 2);
    CHECK(both.has("give --run-as USER or --run-as-agent, not both"));

    // Switching users needs root (test_components_run_as says more).
    if (::geteuid() != 0 || !::getpwnam("nobody")) {
        MESSAGE("skipped the user switch: not root, or no user nobody");
        return;
    }
    const auto nobody = rig.ctl({"plugin", "isolate", "echo", "--run-as", "nobody"});
    CHECK_MESSAGE(nobody.code == 0, nobody.output);
    CHECK(nobody.has(R"(run_as={"user":"nobody"})"));
    REQUIRE(rig.client->wait_for(
        rig.agent.topic("core/components"),
        [](const Message& m) { return has_text(m.payload, R"("run_as":{"user":"nobody"})"); },
        std::chrono::seconds(5)));
    const auto listed = rig.ctl({"plugin", "list"});
    CHECK_MESSAGE(listed.has("process as nobody"), listed.output);
    const auto agent = rig.ctl({"plugin", "isolate", "echo", "--run-as-agent"});
    CHECK_MESSAGE(agent.code == 0, agent.output);
    CHECK(agent.has("run_as={}"));
}
