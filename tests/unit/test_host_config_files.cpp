// The files the configuration names (issue 13): env-file comments and unknown keys, an
// unreadable default env file, the TLS files check-config and the agent verify, and the
// settings a reload can and cannot apply.
#include <doctest/doctest.h>

#include <sys/stat.h>

#include <fstream>

#include "config/command_line.hpp"
#include "config/config_report.hpp"
#include "config/config_resolver.hpp"
#include "config/env_file.hpp"
#include "config/load_config.hpp"
#include "config/setting_names.hpp"
#include "config/tls_files_check.hpp"
#include "service/config_reload.hpp"
#include "status_text.hpp"
#include "temp_dir.hpp"

using lucid::test::status_text;
using namespace lucid::host;
using namespace lucid::host::config;
namespace fs = std::filesystem;

namespace {

AgentConfig resolve_with(const std::map<std::string, std::string>& file) {
    auto cli = parse_command_line({});
    auto env = [](const std::string& name) -> std::optional<std::string> {
        if (name == "HOME") return std::string("/h");
        return std::nullopt;
    };
    auto r = resolve_config(cli, env, file, "/e.env", HostFacts{"host", false});
    INFO(r.error);
    REQUIRE(r.config);
    return *r.config;
}

}  // namespace

TEST_CASE("env files: an unquoted ' #' starts a comment, quoted values keep it") {
    auto r = parse_env_file(
        "LUCID_AGENT_ID=pi-1   # the kitchen\n"
        "LUCID_MQTT_URL=\"mqtt://u:p#w@h\" # quoted keeps its #\n"
        "FRAGMENT=http://x/y#z\n"
        "UNSET= # nothing yet\n"
        "SINGLE='a #b'\n");
    INFO(r.error);
    REQUIRE(r.error.empty());
    CHECK(r.values.at("LUCID_AGENT_ID") == "pi-1");
    CHECK(r.values.at("LUCID_MQTT_URL") == "mqtt://u:p#w@h");
    CHECK(r.values.at("FRAGMENT") == "http://x/y#z");
    CHECK(r.values.at("UNSET").empty());
    CHECK(r.values.at("SINGLE") == "a #b");
    CHECK(parse_env_file("Q='a' b\n").error ==
          "line 1: text after the closing quote in value of Q (quote the whole value)");
}

TEST_CASE("an unknown LUCID_ key in an env file is reported with the nearest known key") {
    const std::map<std::string, std::string> values{{"LUCID_TRUSTED_KEY_DIR", "/k"},
                                                    {"LUCID_FROBNICATE_EVERYTHING", "1"},
                                                    {"LUCID_MQTT_URL", "mqtt://h"},
                                                    {"PATH", "/bin"}};
    const auto warnings = unknown_variable_warnings(values, "/etc/lucid/agent.env");
    REQUIRE(warnings.size() == 2);
    CHECK(warnings[0] ==
          "env file /etc/lucid/agent.env: unknown setting LUCID_FROBNICATE_EVERYTHING ignored");
    CHECK(warnings[1] ==
          "env file /etc/lucid/agent.env: unknown setting LUCID_TRUSTED_KEY_DIR ignored (did "
          "you mean LUCID_TRUSTED_KEYS_DIR?)");
    CHECK(is_known_variable("LUCID_LEGACY_REGISTRY"));
    CHECK(is_known_variable("LUCID_ENV_FILE"));
}

TEST_CASE("an env file setting the environment overrides is reported, without its value") {
    // What the systemd unit does: Environment=LUCID_DATA_DIR=/var/lib/lucid wins over the file.
    const std::map<std::string, std::string> values{{"LUCID_DATA_DIR", "/srv/lucid"},
                                                    {"LUCID_AGENT_ID", "pi-1"},
                                                    {"LUCID_MQTT_URL", "mqtt://u:secret@h"}};
    auto environment = [](const std::string& name) -> std::optional<std::string> {
        if (name == "LUCID_DATA_DIR") return "/var/lib/lucid";
        if (name == "LUCID_AGENT_ID") return "pi-1";  // the same value: nothing to say
        if (name == "LUCID_MQTT_URL") return "mqtt://h";
        return std::nullopt;
    };
    const auto warnings = shadowed_variable_warnings(values, "/etc/lucid/agent.env", environment);
    REQUIRE(warnings.size() == 2);
    CHECK(warnings[0] ==
          "env file /etc/lucid/agent.env: LUCID_DATA_DIR ignored: the environment sets it (under "
          "the systemd unit: systemctl edit lucid-agent, Environment=LUCID_DATA_DIR=...)");
    CHECK(warnings[1].find("LUCID_MQTT_URL ignored") != std::string::npos);
    CHECK(warnings[1].find("secret") == std::string::npos);
}

TEST_CASE("check-config shows LUCID_LEGACY_REGISTRY and where it came from") {
    auto text = describe_config(resolve_with({}));
    CHECK(text.find("legacy_registry                = /var/lib/lucid/components.json") !=
          std::string::npos);
    auto set = resolve_with({{"LUCID_LEGACY_REGISTRY", "/old/components.json"}});
    CHECK(set.legacy_registry == "/old/components.json");
    CHECK(describe_config(set).find("(env file /e.env: LUCID_LEGACY_REGISTRY)") !=
          std::string::npos);
}

TEST_CASE("an unreadable default env file is a warning; one asked for is an error") {
    lucid::test::TempDir dir;
    // A directory stands in for an unreadable file (the tests run as root, whom modes do not
    // stop); the integration tests cover Permission denied with setpriv.
    fs::create_directories(dir / "agent.env");
    auto cli = parse_command_line({"--agent-id", "a1", "--data-dir", "/d"});
    auto quiet = load_config(cli, (dir / "agent.env").string());
    INFO(quiet.error);
    REQUIRE(quiet.config);
    REQUIRE(quiet.warnings.size() == 1);
    CHECK(quiet.warnings[0] == "env file " + (dir / "agent.env").string() +
                                   " not read (not a regular file); using flags and the "
                                   "environment only");
    auto asked = parse_command_line({"--env-file", (dir / "agent.env").string()});
    auto failed = load_config(asked);
    CHECK_FALSE(failed.config);
    CHECK(failed.error ==
          "cannot read env file " + (dir / "agent.env").string() + ": not a regular file");
    CHECK(load_config(cli, (dir / "absent.env").string()).warnings.empty());
}

TEST_CASE("TLS files are checked with the file and the reason") {
    lucid::test::TempDir dir;
    mqtt::TlsFiles files;
    files.ca_file = (dir / "ca.pem").string();
    CHECK(status_text(tls_files_problem(files)) ==
          "tls_ca " + files.ca_file + ": No such file or directory");
    std::ofstream(dir / "ca.pem") << "not a certificate\n";
    const std::string problem = status_text(tls_files_problem(files));
    CHECK(problem.rfind("tls_ca " + files.ca_file + ": no PEM certificate in it (", 0) == 0);
    CHECK(tls_files_problem(mqtt::TlsFiles{}).ok());
}

TEST_CASE("a reload reports each changed setting it cannot apply, never a password") {
    auto running = resolve_with({{"LUCID_MQTT_URL", "mqtt://u:old@b:1883"}});
    auto fresh = resolve_with({{"LUCID_MQTT_URL", "mqtt://u:new@b:1883"},
                               {"LUCID_MQTT_KEEPALIVE_S", "60"},
                               {"LUCID_SIGNATURE_POLICY", "optional"},
                               {"LUCID_ALLOWED_SOURCE_PREFIXES", "https://x/"}});
    const auto changes = service::restart_needed_changes(running, fresh);
    REQUIRE(changes.size() == 2);
    CHECK(changes[0] == "mqtt_url changed (its password) (env file /e.env: LUCID_MQTT_URL)");
    CHECK(changes[1] ==
          "keepalive_s changed from '30' to '60' (env file /e.env: LUCID_MQTT_KEEPALIVE_S)");
}
