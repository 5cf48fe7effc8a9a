// The drop-in directory (contract §7, issue 5 item 5) over a real agent: files already there at
// start are installed; a file moved in is installed; a newer version upgrades; removing the
// file the running version came from uninstalls; names that do not parse and bytes that are
// not a plugin are reported (once per start), never installed; a detached signature made with
// openssl and arriving after its file installs it (issue 13 #10). Where the directory crosses
// MQTT installs: test_components_dropin_channels.cpp.
#include <doctest/doctest.h>

#include <sys/stat.h>

#include <csignal>
#include <string>
#include <vector>

#include "dropin_rig.hpp"

using namespace lucid::itest;
namespace fs = std::filesystem;

TEST_CASE("drop-in files are installed, upgraded and uninstalled by the directory alone") {
    const Artifact probe = artifact(LUCID_ITEST_PROBE);
    const Artifact v1 = artifact(LUCID_ITEST_ECHO_1_0);
    const Artifact v2 = artifact(LUCID_ITEST_ECHO_2_0);
    DropinRig rig("drop-1");
    const fs::path dir = rig.dropin();
    fs::copy_file(probe.path, dir / probe.name);  // present before the agent starts
    rig.start_agent();

    REQUIRE_MESSAGE(rig.wait_status("probe", "running", "1.0.0"), rig.agent.log());
    REQUIRE(rig.wait_registered("probe", "1.0.0"));
    std::string entry = registry_entry(rig.registry(), "probe");
    CHECK(has_text(entry, R"("type":"dropin")"));
    CHECK(has_text(entry, json_string((dir / probe.name).string())));
    CHECK(has_text(entry, R"("sha256":")" + probe.sha256 + "\""));

    rig.move_in(v1);
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
    CHECK_MESSAGE(rig.retained_deleted("probe"), rig.agent.log());
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
    CHECK_MESSAGE(rig.retained_deleted("echo"), rig.agent.log());
    CHECK(registry_entry(rig.registry(), "echo").empty());
    CHECK_FALSE(fs::exists(rig.data() / "components" / "lucid-agent-echo"));
}

namespace {

// The openssl command line, as an operator runs it; REQUIREs success.
void openssl(const std::vector<std::string>& args) {
    std::vector<std::string> argv{"/usr/bin/openssl"};  // execve: no PATH lookup
    argv.insert(argv.end(), args.begin(), args.end());
    const auto [code, output] = run_to_completion(argv, {});
    REQUIRE_MESSAGE(code == 0, "openssl " << args.front() << ": " << output);
}

}  // namespace

TEST_CASE(
    "a signature made with the README's openssl recipe, arriving after its file, installs it") {
    const Artifact echo = artifact(LUCID_ITEST_ECHO_1_0);
    DropinRig rig("drop-sig");
    const fs::path signer = rig.agent.data_dir() / "signer";
    fs::create_directories(signer / "keys");
    const std::string key = (signer / "signer.key").string();
    // README "Signing a drop-in file", command for command.
    openssl({"genpkey", "-algorithm", "ed25519", "-out", key});
    openssl({"pkey", "-in", key, "-pubout", "-out", (signer / "keys" / "signer.pem").string()});
    rig.env["LUCID_TRUSTED_KEYS_DIR"] = (signer / "keys").string();
    rig.env["LUCID_SIGNATURE_POLICY"] = "required";
    rig.start_agent();

    const fs::path file = rig.dropin() / echo.name;
    rig.move_in(echo);
    // The audit line of the refusal (README "Audit trail").
    // It names the version the file name gives and says the file waits for its signature.
    const std::string refused = "source='dropin " + file.string() +
                                "' from=none to=1.0.0 outcome=failed error='signature required: "
                                "the artifact is unsigned; waiting for " +
                                file.string() + ".sig'";
    REQUIRE_MESSAGE(rig.agent.wait_for_log(refused, std::chrono::seconds(10)), rig.agent.log());
    close_unchanged(file);  // seen again, unchanged: not logged again

    // The raw 64 bytes openssl writes, straight into the directory, after the file.
    openssl({"pkeyutl", "-sign", "-rawin", "-inkey", key, "-in", file.string(), "-out",
             file.string() + ".sig"});
    REQUIRE_MESSAGE(rig.wait_status("echo", "running", "1.0.0"), rig.agent.log());
    rig.echo_answers("drop-sig-1");
    const std::string log = rig.agent.log();
    CHECK_MESSAGE(occurrences(log, refused) == 1, log);
    // The signature is not an artifact: never reported as a bad one.
    CHECK_MESSAGE(!has_text(log, "rejected"), log);
    CHECK_MESSAGE(!has_text(log, "ignoring"), log);
}

TEST_CASE("a rejected name and a refused file are logged once, not again at the next start") {
    DropinRig rig("drop-log");
    const fs::path bad_name = rig.dropin() / "noversion.so";
    const fs::path bad_bytes = rig.dropin() / "lucid_agent_echo-4.0.0.so";
    write_bytes(bad_name, "x");
    write_bytes(bad_bytes, "not a plugin at all");
    rig.start_agent();
    REQUIRE_MESSAGE(rig.agent.wait_for_log("noversion.so", std::chrono::seconds(10)),
                    rig.agent.log());
    REQUIRE_MESSAGE(rig.agent.wait_for_log("not an ELF file", std::chrono::seconds(10)),
                    rig.agent.log());
    // Both seen again, unchanged; then a fence after them.
    close_unchanged(bad_name);
    close_unchanged(bad_bytes);
    rig.fence(true);
    rig.fence(false);
    std::string log = rig.agent.log();
    CHECK_MESSAGE(occurrences(log, "noversion.so") == 1, log);
    CHECK_MESSAGE(occurrences(log, "not an ELF file") == 1, log);
    rig.agent.stop(SIGTERM);

    // The next start finds both unchanged: one line says so, neither is logged again.
    rig.start_agent();
    REQUIRE_MESSAGE(rig.agent.wait_for_log("2 unchanged file(s) still refused as logged at an "
                                           "earlier start",
                                           std::chrono::seconds(10)),
                    rig.agent.log());
    rig.fence(true);
    log = rig.agent.log();
    CHECK_MESSAGE(occurrences(log, "noversion.so") == 0, log);
    CHECK_MESSAGE(occurrences(log, "not an ELF file") == 0, log);

    // A changed file is news again.
    write_bytes(bad_bytes, "still not a plugin, but another one");
    REQUIRE_MESSAGE(rig.agent.wait_for_log("not an ELF file", std::chrono::seconds(10)),
                    rig.agent.log());
    rig.agent.stop(SIGTERM);
}

TEST_CASE("a FIFO as a drop-in's .sig is refused at once and SIGTERM still stops the agent") {
    const Artifact echo = artifact(LUCID_ITEST_ECHO_1_0);
    DropinRig rig("drop-fifo");
    rig.start_agent();
    const fs::path sig = rig.dropin() / (echo.name + ".sig");
    REQUIRE(::mkfifo(sig.c_str(), 0600) == 0);
    rig.move_in(echo);
    REQUIRE_MESSAGE(
        rig.agent.wait_for_log(sig.string() + " is not a regular file", std::chrono::seconds(10)),
        rig.agent.log());
    rig.fence(true);  // the drop-in lane goes on
    CHECK(registry_entry(rig.registry(), "echo").empty());
    CHECK_MESSAGE(rig.agent.stop(SIGTERM) == 0, rig.agent.log());
}

TEST_CASE("a symlink made in place is installed and a FIFO made in place is refused at once") {
    const Artifact echo = artifact(LUCID_ITEST_ECHO_1_0);
    const Artifact probe = artifact(LUCID_ITEST_PROBE);
    DropinRig rig("drop-inplace");
    rig.start_agent();
    // `ln -s` creates the entry and writes nothing: no IN_CLOSE_WRITE ever comes.
    fs::create_symlink(echo.path, rig.dropin() / echo.name);
    REQUIRE_MESSAGE(rig.wait_status("echo", "running", "1.0.0"), rig.agent.log());
    const fs::path fifo = rig.dropin() / probe.name;
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    CHECK_MESSAGE(
        rig.agent.wait_for_log(fifo.string() + " is not a regular file", std::chrono::seconds(10)),
        rig.agent.log());
    CHECK_MESSAGE(rig.agent.stop(SIGTERM) == 0, rig.agent.log());
    // Found by the scan at the next start, not skipped: still refused, logged once already.
    rig.start_agent();
    CHECK_MESSAGE(rig.agent.wait_for_log("1 unchanged file(s) still refused as logged at an "
                                         "earlier start",
                                         std::chrono::seconds(10)),
                  rig.agent.log());
    CHECK_MESSAGE(rig.agent.stop(SIGTERM) == 0, rig.agent.log());
}

TEST_CASE("LUCID_DROPIN=off: the directory is not read; on again, its files are installed") {
    const Artifact probe = artifact(LUCID_ITEST_PROBE);
    DropinRig rig("drop-off");
    fs::copy_file(probe.path, rig.dropin() / probe.name);
    rig.env["LUCID_DROPIN"] = "off";
    rig.start_agent();
    REQUIRE_MESSAGE(rig.agent.wait_for_log("drop-in directory off (LUCID_DROPIN=off): " +
                                               rig.dropin().string() + " is not read",
                                           std::chrono::seconds(10)),
                    rig.agent.log());
    const Artifact echo = artifact(LUCID_ITEST_ECHO_1_0);
    REQUIRE(ok_of(rig.install("off-install", "echo", inline_source(echo))));  // MQTT as ever
    rig.echo_answers("off-echo");
    CHECK_FALSE(has_text(rig.agent.log(), "watching drop-in directory"));
    CHECK(registry_entry(rig.registry(), "probe").empty());
    auto state = rig.client->wait_for(rig.agent.topic("core/state"), any_message());
    REQUIRE(state);
    CHECK(state->str("state") == "running");  // off is a choice, not a fault
    REQUIRE(rig.agent.stop(SIGTERM) == 0);

    rig.env.erase("LUCID_DROPIN");
    rig.start_agent();
    CHECK_MESSAGE(rig.wait_status("probe", "running", "1.0.0"), rig.agent.log());
}

TEST_CASE("a drop-in directory that cannot be watched, or stops being, degrades core/state") {
    DropinRig rig("drop-unwatched");
    // A regular file where the directory should be: nothing can create or watch it.
    const fs::path blocked = rig.agent.data_dir() / "not-a-dir";
    write_bytes(blocked, "x");
    rig.env["LUCID_PLUGIN_DIR"] = blocked.string();
    rig.start_agent();
    const std::string prefix = "drop-in directory not watched: " + blocked.string() + ": ";
    auto degraded = [&](const Message& m) {
        return m.str("state") == "degraded" && has_text(m.payload, prefix);
    };
    CHECK_MESSAGE(rig.client->wait_for(rig.agent.topic("core/state"), degraded), rig.agent.log());
    const Artifact echo = artifact(LUCID_ITEST_ECHO_1_0);
    REQUIRE(ok_of(rig.install("unwatched-install", "echo", inline_source(echo))));
    rig.echo_answers("unwatched-echo");  // the agent serves everything else
    REQUIRE(rig.agent.stop(SIGTERM) == 0);

    // Watched at start, then deleted under the running agent.
    rig.env["LUCID_PLUGIN_DIR"] = rig.dropin().string();
    rig.client->clear();
    rig.start_agent();
    auto running = rig.client->wait_for(rig.agent.topic("core/state"), any_message());
    REQUIRE(running);
    CHECK(running->str("state") == "running");
    fs::remove_all(rig.dropin());
    const std::string gone = "drop-in directory not watched: " + rig.dropin().string() +
                             ": it was deleted, moved or unmounted";
    CHECK_MESSAGE(rig.client->wait_for(rig.agent.topic("core/state"),
                                       [&](const Message& m) { return has_text(m.payload, gone); }),
                  rig.agent.log());
}
