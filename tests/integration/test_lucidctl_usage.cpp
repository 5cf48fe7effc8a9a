// lucidctl's command line as a real process: usage errors, --help and --version, and the
// agent's settings (broker, TLS, env file) under lucidctl's own flag names.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "agent_harness.hpp"
#include "ctl_runner.hpp"

using namespace lucid::itest;
namespace fs = std::filesystem;

namespace {

using Outcome = CtlOutcome;
Outcome ctl(const std::vector<std::string>& args, const std::map<std::string, std::string>& env) {
    return run_ctl(args, env);
}

using Running = CtlAgentRig;

}  // namespace

TEST_CASE("usage errors exit 2 and --help exits 0 on every level") {
    const std::map<std::string, std::string> env{{"LUCID_MQTT_URL", "mqtt://127.0.0.1:1"}};
    CHECK(ctl({}, env).code == 2);
    const auto unknown = ctl({"frobnicate"}, env);
    CHECK(unknown.code == 2);
    CHECK(unknown.has("unknown command 'frobnicate'"));
    CHECK(ctl({"--timeout", "zero", "ping"}, env).code == 2);
    CHECK(ctl({"plugin", "info"}, env).code == 2);  // missing the id: no broker needed to say so
    const auto help = ctl({"--help"}, env);
    CHECK(help.code == 0);
    CHECK(help.has("plugin install FILE [--id ID]"));
    const auto install_help = ctl({"plugin", "install", "--help"}, env);
    CHECK(install_help.code == 0);
    CHECK(install_help.has("--sha256 HEX"));
}

TEST_CASE("the README shows lucidctl's help as it is") {
    const auto help = ctl({"--help"}, {});
    REQUIRE(help.code == 0);
    std::ifstream readme(fs::path(LUCID_FIXTURES) / "../../README.md");
    const std::string text((std::istreambuf_iterator<char>(readme)), {});
    CHECK_MESSAGE(text.find("```\n" + help.output + "```\n") != std::string::npos, help.output);
}

TEST_CASE("a usage error prints the one error and a hint, not the whole help") {
    const std::map<std::string, std::string> env{{"LUCID_MQTT_URL", "mqtt://127.0.0.1:1"}};
    const auto typo = ctl({"stauts"}, env);
    CHECK(typo.code == 2);
    CHECK(typo.has("lucidctl: unknown command 'stauts' (did you mean 'status'?)"));
    CHECK(typo.has("try 'lucidctl --help'"));
    CHECK_FALSE(typo.has("commands:"));
    const auto sub = ctl({"plugin", "unistall", "echo"}, env);
    CHECK(sub.code == 2);
    CHECK(sub.has("unknown plugin subcommand 'unistall' (did you mean 'uninstall'?)"));
    const auto option = ctl({"--jsno", "ping"}, env);
    CHECK(option.code == 2);
    CHECK(option.has("unknown option '--jsno' (did you mean '--json'?)"));
    const auto missing = ctl({"plugin", "info"}, env);
    CHECK(missing.has("missing component id"));
    CHECK(missing.has("try 'lucidctl plugin info --help'"));
    CHECK_FALSE(ctl({}, env).has("commands:"));
}

TEST_CASE("an option a command does not take, or one given twice, is a usage error") {
    const std::map<std::string, std::string> env{{"LUCID_MQTT_URL", "mqtt://127.0.0.1:1"}};
    // Silently ignored, `status --select` would look like a selection.
    const auto stray = ctl({"status", "--select", "site=a"}, env);
    CHECK(stray.code == 2);
    CHECK(stray.has("option --select does not apply to 'status'"));
    CHECK(ctl({"config", "set", "labels=a=b", "--select", "x"}, env).code == 2);
    const auto twice = ctl({"agents", "--select", "a=b", "--select", "c=d"}, env);
    CHECK(twice.code == 2);
    CHECK(twice.has("option --select given twice"));
    const auto setting = ctl({"config", "set", "heartbeat_s=10", "heartbeat_s=20"}, env);
    CHECK(setting.code == 2);
    CHECK(setting.has("heartbeat_s given twice"));
    // --json: the usage error is JSON on stdout too; what was typed is shown without escapes.
    const auto json = ctl({"--json", "agents", "--select", "Bad\x1b[31m"}, env);
    CHECK(json.code == 2);
    CHECK(json.has("{\"ok\":false,\"error\":"));
    CHECK(json.output.find('\x1b') == std::string::npos);
}

TEST_CASE("--timeout takes 1 to 3600 seconds and says so") {
    const std::map<std::string, std::string> env{{"LUCID_MQTT_URL", "mqtt://127.0.0.1:1"}};
    for (const char* bad : {"0", "0.5", "3601", "zero"}) {
        const auto out = ctl({"--timeout", bad, "ping"}, env);
        CHECK(out.code == 2);
        CHECK_MESSAGE(out.has("--timeout must be a number of seconds from 1 to 3600"), out.output);
    }
    CHECK(ctl({"--timeout", "1", "ping"}, env).code == 3);  // accepted: the broker is not there
}

TEST_CASE("--expires-in takes an age from 1s to 3650d, or never") {
    const std::map<std::string, std::string> env{{"LUCID_MQTT_URL", "mqtt://127.0.0.1:1"}};
    for (const char* bad : {"0s", "soon", "-1h", "", "3651d", "1000000000000000000000d"}) {
        const auto out = ctl({"--expires-in", bad, "ping"}, env);
        CHECK(out.code == 2);
        CHECK_MESSAGE(out.has("--expires-in must be an age from 1s to 3650d like 1h, 30m or 7d, "
                              "or never, got '" +
                              std::string(bad) + "'"),
                      out.output);
    }
    for (const char* good : {"30m", "7d", "never"}) {
        CHECK(ctl({"--expires-in", good, "ping"}, env).code == 3);  // the broker is not there
    }
}

TEST_CASE("lucidctl takes the agent's broker, TLS and env-file settings under its own names") {
    Running r;
    const std::map<std::string, std::string> no_broker{{"LUCID_AGENT_ID", "ctl-1"}};
    const auto version = ctl({"--version"}, {});
    CHECK(version.code == 0);
    // The same version as the agent built with it.
    const auto agent_version = run_to_completion({LUCID_AGENT_BIN, "--version"}, {}).second;
    const auto number = agent_version.substr(agent_version.find_last_of(' ') + 1);
    CHECK_MESSAGE(version.output == "lucidctl " + number,
                  version.output << " vs " << agent_version);

    CHECK(ctl({"--mqtt-url", r.broker.url(), "ping"}, no_broker).code == 0);
    CHECK(ctl({"--url=" + r.broker.url(), "ping"}, no_broker).code == 0);

    TempDir dir;
    std::ofstream(dir / "ctl.env")
        << "LUCID_MQTT_URL=" << r.broker.url() << "\nLUCID_AGENT_ID=ctl-1\n";
    CHECK(ctl({"--env-file", (dir / "ctl.env").string(), "ping"}, {}).code == 0);
    const auto missing_env = ctl({"--env-file", (dir / "nope.env").string(), "ping"}, {});
    CHECK(missing_env.code == 2);
    CHECK(missing_env.has("nope.env"));

    // A plain mqtt:// broker ignores the TLS files; a TLS file pair must still be complete.
    const auto half =
        ctl({"--tls-cert", "/x/cert.pem", "ping"}, {{"LUCID_MQTT_URL", r.broker.url()}});
    CHECK(half.code == 2);
    CHECK(half.has("tls_cert and tls_key must be given together"));

    // Errors name lucidctl's flags, not the agent's.
    const auto bad_agent = ctl({"--agent", "Bad/Id", "ping"}, {{"LUCID_MQTT_URL", r.broker.url()}});
    CHECK(bad_agent.code == 2);
    CHECK_MESSAGE(bad_agent.has("(flag --agent)"), bad_agent.output);
    CHECK_FALSE(bad_agent.has("--agent-id"));
    const auto bad_root = ctl({"--root", "/x/", "ping"}, {{"LUCID_MQTT_URL", r.broker.url()}});
    CHECK_MESSAGE(bad_root.has("(flag --root)"), bad_root.output);
    CHECK_FALSE(bad_root.has("--topic-root"));
    const auto bad_url = ctl({"--url", "http://x", "ping"}, {});
    CHECK_MESSAGE(bad_url.has("(flag --url)"), bad_url.output);
    CHECK_FALSE(bad_url.has("--mqtt-url"));
}

TEST_CASE("an unreadable default env file that lucidctl was not asked to read is skipped") {
    Running r;
    // A root-only /etc/lucid/agent.env as install-service writes it, seen by a non-root operator:
    // /etc is replaced in a mount namespace of lucidctl's own.
    TempDir dir;
    fs::create_directories(dir / "etc/lucid");
    std::ofstream(dir / "etc/lucid/agent.env") << "LUCID_AGENT_ID=from-the-file\n";
    fs::permissions(dir.path(), fs::perms(0755));
    fs::permissions(dir / "etc", fs::perms(0755));
    fs::permissions(dir / "etc/lucid", fs::perms(0755));
    fs::permissions(dir / "etc/lucid/agent.env", fs::perms(0640));
    const std::string script =
        "mount --make-rprivate / && mount --bind '" + (dir / "etc").string() +
        "' /etc || exit 99; exec setpriv --reuid=65534 --regid=65534 --clear-groups '" +
        LUCIDCTL_BIN + "' --agent ctl-1 ping";
    // Without LUCID_ENV_FILE: the default file is the one in question. LeakSanitizer cannot
    // run as nobody here, so it is off for this one run.
    const auto out =
        run_to_completion({"/usr/bin/unshare", "-m", "/bin/sh", "-c", script},
                          {{"LUCID_MQTT_URL", r.broker.url()}, {"ASAN_OPTIONS", "detect_leaks=0"}});
    if (out.first == 99 || out.second.find("unshare failed") != std::string::npos) {
        MESSAGE("skipped: no mount namespace here (" << out.second << ")");
        return;
    }
    CHECK_MESSAGE(out.first == 0, out.second);
    CHECK(out.second.find("ping: ok") != std::string::npos);
}
