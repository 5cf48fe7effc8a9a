// The table of start-up settings: one row per setting, naming its flag and its environment
// variable. The command-line parser, the resolver and check-config all read this table, so a
// setting cannot exist in one of them and not in another.
#pragma once

#include <array>
#include <string_view>

namespace lucid::host::config {

struct Setting {
    std::string_view key;   // name in check-config output
    std::string_view flag;  // --flag
    std::string_view env;   // variable in the environment and in env files
    std::string_view help;
};

inline constexpr std::array<Setting, 34> kSettings{{
    {"mqtt_url", "--mqtt-url", "LUCID_MQTT_URL",
     "broker, mqtt://[user:password@]host[:port] or mqtts://... (default mqtt://127.0.0.1:1883)"},
    {"agent_id", "--agent-id", "LUCID_AGENT_ID", "agent id (default: from the host name)"},
    {"data_dir", "--data-dir", "LUCID_DATA_DIR",
     "state directory (default /var/lib/lucid as root, else $XDG_STATE_HOME/lucid)"},
    {"plugin_dir", "--plugin-dir", "LUCID_PLUGIN_DIR",
     "drop-in directory (default {data}/plugins.d)"},
    {"dropin", "--dropin", "LUCID_DROPIN",
     "on | off: watch the drop-in directory (default on; off: the directory is not read)"},
    {"default_isolation", "--default-isolation", "LUCID_DEFAULT_ISOLATION",
     "in_process | process: where a component runs when its install named no isolation "
     "(default in_process)"},
    {"run_as_allowed", "--run-as-allowed", "LUCID_RUN_AS_ALLOWED",
     "users a component's child process may run as, USER or USER:GROUP:GROUP... separated by "
     "commas (default: none)"},
    {"plugin_runner", "--plugin-runner", "LUCID_PLUGIN_RUNNER",
     "the lucid-plugin-runner executable of process isolation (default: beside lucid-agent)"},
    {"tls_ca", "--tls-ca", "LUCID_TLS_CA", "CA file for mqtts:// (default: system CAs)"},
    {"tls_cert", "--tls-cert", "LUCID_TLS_CERT", "client certificate file for mqtts://"},
    {"tls_key", "--tls-key", "LUCID_TLS_KEY", "client key file for mqtts://"},
    {"keepalive_s", "--keepalive-s", "LUCID_MQTT_KEEPALIVE_S",
     "MQTT keepalive, 5-3600 (default 30)"},
    {"reconnect_min_ms", "--reconnect-min-ms", "LUCID_RECONNECT_MIN_MS",
     "first reconnect delay, ms (default 1000)"},
    {"reconnect_max_ms", "--reconnect-max-ms", "LUCID_RECONNECT_MAX_MS",
     "longest reconnect delay, ms (default 60000)"},
    {"max_artifact_bytes", "--max-artifact-bytes", "LUCID_MAX_ARTIFACT_BYTES",
     "artifact size cap, bytes or with K/M/G suffix (default 64M)"},
    {"download_timeout_s", "--download-timeout-s", "LUCID_DOWNLOAD_TIMEOUT_S",
     "longest a download may take, s (default 600)"},
    {"download_stall_s", "--download-stall-s", "LUCID_DOWNLOAD_STALL_S",
     "abort a download that receives under 1 byte/s for this long, s (default 30)"},
    {"trusted_keys_dir", "--trusted-keys-dir", "LUCID_TRUSTED_KEYS_DIR",
     "directory of trusted signing keys (default: none)"},
    {"signature_policy", "--signature-policy", "LUCID_SIGNATURE_POLICY",
     "optional | required (default optional)"},
    {"accept_bare_signatures", "--accept-bare-signatures", "LUCID_ACCEPT_BARE_SIGNATURES",
     "yes | no: accept a bare base64 signature, not a lucid-sig-1 statement (default yes, "
     "deprecated)"},
    {"allowed_source_prefixes", "--allowed-source-prefixes", "LUCID_ALLOWED_SOURCE_PREFIXES",
     "comma-separated URL prefixes installs may download from (default: any)"},
    {"topic_root", "--topic-root", "LUCID_TOPIC_ROOT", "topic root (default lucid/agents)"},
    {"fleet_root", "--fleet-root", "LUCID_FLEET_ROOT",
     "root of the fleet's shared topics, e.g. {fleet_root}/artifacts/... (default lucid)"},
    {"labels", "--labels", "LUCID_LABELS",
     "the agent's labels, key=value,... (default none; a cfg/set of labels wins from then on)"},
    {"github_base_url", "--github-base-url", "LUCID_GITHUB_BASE_URL",
     "base of github_release sources (default https://github.com)"},
    {"supervised", "--supervised", "LUCID_SUPERVISED",
     "auto | yes | no: may `restart` exit for a service manager (default auto: systemd detected)"},
    {"plugin_stall_s", "--plugin-stall-s", "LUCID_PLUGIN_STALL_S",
     "a plugin callback running this long marks its component failed/unresponsive, 1-3600 "
     "(default 10)"},
    {"upgrade_health_ms", "--upgrade-health-ms", "LUCID_UPGRADE_HEALTH_MS",
     "an upgraded component that fails within this long is rolled back, 0-60000 (default 300)"},
    {"upgrade_commit_s", "--upgrade-commit-s", "LUCID_UPGRADE_COMMIT_S",
     "a self-updated agent not online and healthy within this long exits and is rolled back, "
     "1-3600 (default 60)"},
    {"start_deaths_before_quarantine", "--start-deaths-before-quarantine",
     "LUCID_START_DEATHS_BEFORE_QUARANTINE",
     "agent deaths in a row while a component starts, none blamed on a plugin, before it is "
     "quarantined, 1-100 (default 3)"},
    {"isolated_crashes_before_quarantine", "--isolated-crashes-before-quarantine",
     "LUCID_ISOLATED_CRASHES_BEFORE_QUARANTINE",
     "ends of a component's child process within 10 minutes before it is quarantined, 1-100 "
     "(default 3)"},
    {"legacy_registry", "--legacy-registry", "LUCID_LEGACY_REGISTRY",
     "the earlier agent's registry, imported once (default /var/lib/lucid/components.json)"},
    {"plugin_queue_max", "--plugin-queue-max", "LUCID_PLUGIN_QUEUE_MAX",
     "commands and messages queued for one plugin at most, 1-1000000 (default 1000)"},
    {"plugin_queue_bytes", "--plugin-queue-bytes", "LUCID_PLUGIN_QUEUE_BYTES",
     "bytes queued for one plugin at most, 1K-1G, K/M/G suffix (default 16M)"},
}};

// The earlier agent's variables, used when LUCID_MQTT_URL is set nowhere.
inline constexpr std::string_view kLegacyHost = "MQTT_HOST";
inline constexpr std::string_view kLegacyPort = "MQTT_PORT";
inline constexpr std::string_view kLegacyUser = "AGENT_USERNAME";
inline constexpr std::string_view kLegacyPassword = "AGENT_PASSWORD";

inline constexpr std::string_view kEnvFileFlag = "--env-file";
inline constexpr std::string_view kEnvFileVariable = "LUCID_ENV_FILE";
inline constexpr std::string_view kDefaultEnvFile = "/etc/lucid/agent.env";

// Variables that are not settings but are read by lucid-agent: known, so never "unknown".
inline constexpr std::array<std::string_view, 2> kOtherVariables{"LUCID_ENV_FILE",
                                                                 "LUCID_SYSTEMD_UNIT_DIR"};

}  // namespace lucid::host::config
