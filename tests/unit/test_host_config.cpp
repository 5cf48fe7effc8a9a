#include <doctest/doctest.h>

#include <map>

#include "config/command_line.hpp"
#include "config/config_report.hpp"
#include "config/config_resolver.hpp"
#include "config/env_file.hpp"

using namespace lucid::host::config;

namespace {

struct Env {
    std::map<std::string, std::string> vars;
    EnvLookup lookup() const {
        return [this](const std::string& name) -> std::optional<std::string> {
            auto it = vars.find(name);
            if (it == vars.end()) return std::nullopt;
            return it->second;
        };
    }
};

ResolveResult resolve(const std::vector<std::string>& args, const Env& env = {},
                      const std::map<std::string, std::string>& file = {},
                      HostFacts facts = {"My.Host-01", false}) {
    auto cli = parse_command_line(args);
    REQUIRE(cli.error.empty());
    return resolve_config(cli, env.lookup(), file, file.empty() ? "" : "/etc/lucid/agent.env",
                          facts);
}

AgentConfig ok(const ResolveResult& r) {
    INFO(r.error);
    REQUIRE(r.config);
    return *r.config;
}

}  // namespace

TEST_CASE("the command line has run as default, check-config, --version and --flag forms") {
    auto none = parse_command_line({});
    CHECK(none.subcommand == "run");
    CHECK(none.error.empty());
    auto check = parse_command_line({"check-config", "--agent-id", "a1", "--data-dir=/d"});
    CHECK(check.subcommand == "check-config");
    CHECK(check.flags.at("--agent-id") == "a1");
    CHECK(check.flags.at("--data-dir") == "/d");
    CHECK(parse_command_line({"--version"}).show_version);
    CHECK(parse_command_line({"--bogus"}).error == "unknown option --bogus");
    CHECK(parse_command_line({"--agent-id"}).error == "option --agent-id needs a value");
    CHECK_FALSE(parse_command_line({"frobnicate"}).error.empty());
    CHECK_FALSE(parse_command_line({"run", "extra"}).error.empty());
}

TEST_CASE("env files: comments, export, quotes and errors with line numbers") {
    auto r = parse_env_file(
        "# comment\n\nexport LUCID_AGENT_ID=pi-1\nLUCID_MQTT_URL = \"mqtt://u:p\\\"w@h\"\n"
        "A='lit $x \\n'\nEMPTY=\n");
    REQUIRE(r.error.empty());
    CHECK(r.values.at("LUCID_AGENT_ID") == "pi-1");
    CHECK(r.values.at("LUCID_MQTT_URL") == "mqtt://u:p\"w@h");
    CHECK(r.values.at("A") == "lit $x \\n");
    CHECK(r.values.at("EMPTY").empty());
    CHECK(parse_env_file("OK=1\nno equals\n").error == "line 2: expected KEY=VALUE");
    CHECK(parse_env_file("1BAD=x").error.rfind("line 1: invalid variable name", 0) == 0);
    CHECK(parse_env_file("Q=\"open").error.rfind("line 1: unterminated quote", 0) == 0);
}

TEST_CASE("defaults work with nothing set") {
    Env env;
    env.vars["HOME"] = "/home/u";
    auto c = ok(resolve({}, env));
    CHECK(c.endpoint.host == "127.0.0.1");
    CHECK(c.endpoint.port == 1883);
    CHECK_FALSE(c.endpoint.tls);
    CHECK(c.agent_id == "my_host-01");
    CHECK(c.data_dir == "/home/u/.local/state/lucid");
    CHECK(c.plugin_dir == "/home/u/.local/state/lucid/plugins.d");
    CHECK(c.dropin_enabled);
    CHECK(c.topic_root == "lucid/agents");
    CHECK(c.reconnect_min.count() == 1000);
    CHECK(c.reconnect_max.count() == 60000);
    CHECK(c.plugin_stall.count() == 10000);
    CHECK(c.upgrade_health.count() == 300);
    CHECK(c.start_deaths_before_quarantine == 3);
    CHECK(c.origins.at("agent_id") == "default");
}

TEST_CASE("the drop-in directory can be turned off") {
    Env env;
    env.vars["HOME"] = "/home/u";
    env.vars["LUCID_DROPIN"] = "off";
    CHECK_FALSE(ok(resolve({}, env)).dropin_enabled);
    CHECK(ok(resolve({"--dropin", "on"}, env)).dropin_enabled);
}

TEST_CASE("the agent's initial labels are a setting, validated with the setting named") {
    Env env;
    env.vars["HOME"] = "/h";
    CHECK(ok(resolve({}, env)).labels.empty());
    env.vars["LUCID_LABELS"] = "site=berlin, role=gateway";
    auto c = ok(resolve({}, env));
    CHECK(c.labels == lucid::host::contract::Labels{{"site", "berlin"}, {"role", "gateway"}});
    CHECK(ok(resolve({"--labels", "site=paris"}, env)).labels.at("site") == "paris");
    auto bad = resolve({"--labels", "Site=paris"}, env);
    CHECK_FALSE(bad.config);
    CHECK(bad.error ==
          "labels (flag --labels) label key 'Site' must match [a-z0-9][a-z0-9_.-]{0,63}");
}

TEST_CASE("the hung-plugin threshold and the upgrade health window are settings") {
    Env env;
    env.vars["HOME"] = "/h";
    env.vars["LUCID_UPGRADE_HEALTH_MS"] = "2500";
    auto c = ok(resolve({"--plugin-stall-s", "3"}, env));
    CHECK(c.plugin_stall.count() == 3000);
    CHECK(c.upgrade_health.count() == 2500);
    CHECK(c.origins.at("upgrade_health_ms") == "environment LUCID_UPGRADE_HEALTH_MS");
    CHECK(ok(resolve({"--upgrade-health-ms", "0"}, env)).upgrade_health.count() == 0);
}

TEST_CASE("the deaths while starting before a quarantine are a setting (issue 14)") {
    Env env;
    env.vars["HOME"] = "/h";
    env.vars["LUCID_START_DEATHS_BEFORE_QUARANTINE"] = "5";
    auto c = ok(resolve({}, env));
    CHECK(c.start_deaths_before_quarantine == 5);
    CHECK(c.origins.at("start_deaths_before_quarantine") ==
          "environment LUCID_START_DEATHS_BEFORE_QUARANTINE");
    CHECK(ok(resolve({"--start-deaths-before-quarantine", "1"}, env))
              .start_deaths_before_quarantine == 1);
}

TEST_CASE("the crashes of an isolated component before a quarantine are a setting") {
    Env env;
    env.vars["HOME"] = "/h";
    CHECK(ok(resolve({}, env)).isolated_crashes_before_quarantine == 3);
    env.vars["LUCID_ISOLATED_CRASHES_BEFORE_QUARANTINE"] = "7";
    auto c = ok(resolve({}, env));
    CHECK(c.isolated_crashes_before_quarantine == 7);
    CHECK(c.origins.at("isolated_crashes_before_quarantine") ==
          "environment LUCID_ISOLATED_CRASHES_BEFORE_QUARANTINE");
    CHECK(ok(resolve({"--isolated-crashes-before-quarantine", "1"}, env))
              .isolated_crashes_before_quarantine == 1);
}

TEST_CASE("LUCID_RUN_AS_ALLOWED: empty allows nobody; malformed is an error naming the setting") {
    Env env;
    env.vars["HOME"] = "/h";
    auto c = ok(resolve({}, env));
    CHECK(c.run_as_allowed.users.empty());
    CHECK(config_value(c, "run_as_allowed") == "(none)");
    env.vars["LUCID_RUN_AS_ALLOWED"] = "nobody:nogroup,cam";
    c = ok(resolve({}, env));
    CHECK(c.run_as_allowed.users.size() == 2);
    CHECK(config_value(c, "run_as_allowed") == "cam,nobody:nogroup");
    CHECK(c.origins.at("run_as_allowed") == "environment LUCID_RUN_AS_ALLOWED");
    env.vars["LUCID_RUN_AS_ALLOWED"] = "nobody:";
    auto bad = resolve({}, env);
    CHECK_FALSE(bad.config);
    CHECK(bad.error ==
          "run_as_allowed (environment LUCID_RUN_AS_ALLOWED) must be USER or USER:GROUP:... "
          "entries separated by commas: entry 1 'nobody:': empty group name");
    auto flag = resolve({"--run-as-allowed", "a,a"}, env);
    CHECK(flag.error.find("run_as_allowed (flag --run-as-allowed)") == 0);
}

TEST_CASE("LUCID_PLUGIN_RUNNER: beside the agent by default; when set, an executable file") {
    Env env;
    env.vars["HOME"] = "/h";
    auto c = ok(resolve({}, env));
    CHECK(c.plugin_runner.filename() == "lucid-plugin-runner");
    CHECK(c.plugin_runner.is_absolute());
    CHECK(config_value(c, "plugin_runner") == c.plugin_runner.string());
    env.vars["LUCID_PLUGIN_RUNNER"] = "/bin/true";
    c = ok(resolve({}, env));
    CHECK(c.plugin_runner == "/bin/true");
    CHECK(c.origins.at("plugin_runner") == "environment LUCID_PLUGIN_RUNNER");
    for (const char* wrong :
         {"/nonexistent/lucid-plugin-runner", "relative/runner", "/etc/passwd", "/tmp"}) {
        CAPTURE(wrong);
        env.vars["LUCID_PLUGIN_RUNNER"] = wrong;
        auto bad = resolve({}, env);
        CHECK_FALSE(bad.config);
        CHECK(bad.error == std::string("plugin_runner (environment LUCID_PLUGIN_RUNNER) must be an "
                                       "absolute path to an executable file, got '") +
                               wrong + "'");
    }
}

TEST_CASE("each plugin's queue is bounded by two settings: 1000 entries and 16 MiB by default") {
    Env env;
    env.vars["HOME"] = "/h";
    auto c = ok(resolve({}, env));
    CHECK(c.plugin_queue_max == 1000);
    CHECK(c.plugin_queue_bytes == 16u * 1024 * 1024);
    env.vars["LUCID_PLUGIN_QUEUE_BYTES"] = "1M";
    c = ok(resolve({"--plugin-queue-max", "50"}, env));
    CHECK(c.plugin_queue_max == 50);
    CHECK(c.plugin_queue_bytes == 1024 * 1024);
    CHECK(c.origins.at("plugin_queue_bytes") == "environment LUCID_PLUGIN_QUEUE_BYTES");
    CHECK(c.origins.at("plugin_queue_max") == "flag --plugin-queue-max");
}

TEST_CASE("data dir is /var/lib/lucid for root and XDG_STATE_HOME otherwise") {
    Env env;
    env.vars["HOME"] = "/home/u";
    env.vars["XDG_STATE_HOME"] = "/xdg";
    CHECK(ok(resolve({}, env)).data_dir == "/xdg/lucid");
    CHECK(ok(resolve({}, env, {}, {"h", true})).data_dir == "/var/lib/lucid");
    CHECK_FALSE(resolve({}, Env{}).config);  // no HOME, not root: must be told
}

TEST_CASE("precedence is flag, then environment, then env file") {
    Env env;
    env.vars["HOME"] = "/h";
    env.vars["LUCID_AGENT_ID"] = "from-env";
    const std::map<std::string, std::string> file{{"LUCID_AGENT_ID", "from-file"},
                                                  {"LUCID_TOPIC_ROOT", "file/root"}};
    auto c = ok(resolve({"--agent-id", "from-flag"}, env, file));
    CHECK(c.agent_id == "from-flag");
    CHECK(c.origins.at("agent_id") == "flag --agent-id");
    c = ok(resolve({}, env, file));
    CHECK(c.agent_id == "from-env");
    CHECK(c.topic_root == "file/root");
    CHECK(c.origins.at("topic_root") == "env file /etc/lucid/agent.env: LUCID_TOPIC_ROOT");
}

TEST_CASE("the earlier agent's MQTT_* variables are used only without LUCID_MQTT_URL") {
    Env env;
    env.vars["HOME"] = "/h";
    env.vars["MQTT_HOST"] = "legacy.local";
    env.vars["MQTT_PORT"] = "2883";
    env.vars["AGENT_USERNAME"] = "dev";
    env.vars["AGENT_PASSWORD"] = "pw";
    auto c = ok(resolve({}, env));
    CHECK(c.endpoint.host == "legacy.local");
    CHECK(c.endpoint.port == 2883);
    CHECK(c.endpoint.username == "dev");
    CHECK(c.endpoint.password == "pw");
    env.vars["LUCID_MQTT_URL"] = "mqtts://x:y@new.local";
    c = ok(resolve({}, env));
    CHECK(c.endpoint.host == "new.local");
    CHECK(c.endpoint.tls);
    CHECK(c.endpoint.password == "y");
    env.vars.erase("LUCID_MQTT_URL");
    env.vars["MQTT_PORT"] = "99999";
    CHECK(resolve({}, env).error.find("MQTT_PORT") != std::string::npos);
}

TEST_CASE("every bad value is refused with a message naming the setting") {
    Env env;
    env.vars["HOME"] = "/h";
    const std::vector<std::pair<std::vector<std::string>, std::string>> cases{
        {{"--agent-id", "Bad/Id"}, "validation_error: agent_id 'Bad/Id' is invalid"},
        {{"--mqtt-url", "tcp://h"}, "mqtt_url"},
        {{"--data-dir", "relative"}, "data_dir"},
        {{"--plugin-dir", "rel"}, "plugin_dir"},
        {{"--dropin", "no"}, "dropin (flag --dropin) must be on or off"},
        {{"--keepalive-s", "0"}, "keepalive_s"},
        {{"--reconnect-min-ms", "abc"}, "reconnect_min_ms"},
        {{"--reconnect-min-ms", "500", "--reconnect-max-ms", "100"}, "reconnect_min_ms"},
        {{"--max-artifact-bytes", "12Q"}, "max_artifact_bytes"},
        {{"--download-timeout-s", "0"}, "download_timeout_s"},
        {{"--download-stall-s", "x"}, "download_stall_s"},
        {{"--signature-policy", "maybe"}, "signature_policy"},
        {{"--accept-bare-signatures", "yes please"},
         "accept_bare_signatures (flag --accept-bare-signatures) must be yes or no, got 'yes "
         "please'"},
        {{"--signature-policy", "required"}, "trusted_keys_dir"},
        {{"--topic-root", "a/#"}, "topic_root"},
        {{"--topic-root", "/a"}, "topic_root"},
        {{"--supervised", "perhaps"}, "supervised"},
        {{"--tls-cert", "/c.pem"}, "tls_key"},
        {{"--github-base-url", "ftp://x"}, "github_base_url"},
        {{"--plugin-stall-s", "0"}, "plugin_stall_s"},
        {{"--upgrade-health-ms", "60001"}, "upgrade_health_ms"},
        {{"--upgrade-health-ms", "-1"}, "upgrade_health_ms"},
        {{"--start-deaths-before-quarantine", "0"}, "start_deaths_before_quarantine"},
        {{"--start-deaths-before-quarantine", "101"}, "start_deaths_before_quarantine"},
        {{"--isolated-crashes-before-quarantine", "0"}, "isolated_crashes_before_quarantine"},
        {{"--isolated-crashes-before-quarantine", "x"}, "isolated_crashes_before_quarantine"},
        {{"--plugin-queue-max", "0"}, "plugin_queue_max (flag --plugin-queue-max) must be"},
        {{"--plugin-queue-max", "1000001"}, "plugin_queue_max"},
        {{"--plugin-queue-bytes", "1000"},
         "plugin_queue_bytes (flag --plugin-queue-bytes) must be"},
        {{"--plugin-queue-bytes", "2G"}, "plugin_queue_bytes"},
        {{"--plugin-queue-bytes", "lots"}, "plugin_queue_bytes"},
    };
    for (const auto& [args, expected] : cases) {
        CAPTURE(args[1]);
        auto r = resolve(args, env);
        CHECK_FALSE(r.config);
        CHECK(r.error.find(expected) != std::string::npos);
    }
}

TEST_CASE("a bad URL error never echoes the password") {
    Env env;
    env.vars["HOME"] = "/h";
    auto r = resolve({"--mqtt-url", "mqtt://u:topsecret@host:notaport"}, env);
    CHECK_FALSE(r.config);
    CHECK(r.error.find("topsecret") == std::string::npos);
}

TEST_CASE("install settings: size suffixes, prefixes, policy") {
    Env env;
    env.vars["HOME"] = "/h";
    auto c = ok(resolve(
        {"--max-artifact-bytes", "16M", "--allowed-source-prefixes", "https://a/, file:///opt/ ,",
         "--trusted-keys-dir", "/k", "--signature-policy", "required", "--supervised", "yes",
         "--download-timeout-s", "120", "--download-stall-s", "5"},
        env));
    CHECK(c.max_artifact_bytes == 16u * 1024 * 1024);
    CHECK(c.download_timeout_s == 120);
    CHECK(c.download_stall_s == 5);
    CHECK(c.allowed_source_prefixes == std::vector<std::string>{"https://a/", "file:///opt/"});
    CHECK(c.signature_policy == SignaturePolicy::required);
    CHECK(c.accept_bare_signatures);
    CHECK_FALSE(ok(resolve({"--accept-bare-signatures", "no"}, env)).accept_bare_signatures);
    CHECK(c.supervision == lucid::host::config::Supervision::yes);
    // A prefix that is no source URL is named by its position, never echoed (a password).
    CHECK(resolve({"--allowed-source-prefixes", "https://a/,artifacts.example.com"}, env).error ==
          "allowed_source_prefixes (flag --allowed-source-prefixes) entry 2 must start with "
          "https://, http:// or file:///");
    CHECK(resolve({"--allowed-source-prefixes", "https://a/?sig=secret"}, env).error ==
          "allowed_source_prefixes (flag --allowed-source-prefixes) entry 1 must not have a query "
          "or a fragment");
    CHECK(parse_byte_size("1K") == 1024u);
    CHECK(parse_byte_size("7") == 7u);
    CHECK_FALSE(parse_byte_size("M"));
    CHECK_FALSE(parse_byte_size("-1"));
}

TEST_CASE("agent id from host name: lowercased, other characters replaced by _") {
    CHECK(agent_id_from_hostname("Pi-Kitchen.local") == "pi-kitchen_local");
    CHECK(agent_id_from_hostname("") == "");
    CHECK(agent_id_from_hostname(".hidden") == "");  // '_' cannot start an id
    CHECK(agent_id_from_hostname(std::string(80, 'a')).size() == 64);
}

TEST_CASE("check-config prints the resolved config with the password redacted") {
    Env env;
    env.vars["HOME"] = "/h";
    env.vars["LUCID_MQTT_URL"] = "mqtt://dev:hunter2@broker:1883";
    auto text = describe_config(ok(resolve({}, env)));
    CHECK(text.find("hunter2") == std::string::npos);
    CHECK(text.find("mqtt://dev:***@broker:1883") != std::string::npos);
    CHECK(text.find("environment LUCID_MQTT_URL") != std::string::npos);
    CHECK(text.find("agent_id") != std::string::npos);
}

TEST_CASE("check-config redacts the credentials of allowed source prefixes and the GitHub URL") {
    Env env;
    env.vars["HOME"] = "/h";
    env.vars["LUCID_ALLOWED_SOURCE_PREFIXES"] =
        "https://deploy:s3cret@files.example/lucid/,https://TOKEN123@git.example/";
    env.vars["LUCID_GITHUB_BASE_URL"] = "https://ghp_abc@github.example/";
    const auto config = ok(resolve({}, env));
    const auto text = describe_config(config);
    for (const char* secret : {"s3cret", "deploy", "TOKEN123", "ghp_abc"}) {
        CAPTURE(secret);
        CHECK(text.find(secret) == std::string::npos);
    }
    CHECK(config_value(config, "allowed_source_prefixes") ==
          "https://***@files.example/lucid/,https://***@git.example/");
    CHECK(config_value(config, "github_base_url") == "https://***@github.example/");
}

TEST_CASE("the env file comes from --env-file, LUCID_ENV_FILE, or the default path") {
    Env env;
    auto cli = parse_command_line({"--env-file", "/x.env"});
    auto choice = choose_env_file(cli, env.lookup());
    CHECK(choice.path == "/x.env");
    CHECK(choice.required);
    env.vars["LUCID_ENV_FILE"] = "/y.env";
    CHECK(choose_env_file(parse_command_line({}), env.lookup()).path == "/y.env");
    env.vars.clear();
    choice = choose_env_file(parse_command_line({}), env.lookup());
    CHECK(choice.path == "/etc/lucid/agent.env");
    CHECK_FALSE(choice.required);
}

TEST_CASE("a TLS file with a plain mqtt:// broker URL is an error naming both") {
    Env env;
    env.vars["HOME"] = "/h";
    env.vars["LUCID_TLS_CA"] = "/etc/lucid/ca.pem";
    const auto plain = resolve({"--mqtt-url", "mqtt://dev:pw@broker:1883"}, env);
    REQUIRE_FALSE(plain.config);
    CHECK(plain.error ==
          "tls_ca (environment LUCID_TLS_CA) is set but the broker URL is not mqtts://, so TLS "
          "would not be used: use an mqtts:// URL, or remove tls_ca");
    CHECK(plain.error.find("pw") == std::string::npos);
    CHECK(resolve({"--mqtt-url", "mqtts://broker:8883"}, env).config);
}
