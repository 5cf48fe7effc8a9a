// The agent's resolved start-up configuration (contract §8). Produced by config_resolver.hpp; the
// runtime config that cfg/set changes (heartbeat, log level) is agent::CoreConfig
// (agent/core_config.hpp).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "config/supervision.hpp"
#include "contract/labels.hpp"
#include "contract/topics.hpp"
#include "lucid/registry/run_as_allowed.hpp"
#include "mqtt/mqtt_session.hpp"
#include "mqtt/mqtt_url.hpp"

namespace lucid::host::config {

enum class SignaturePolicy {
    optional,  // verify when trusted keys are configured, accept unsigned artifacts otherwise
    required,  // refuse artifacts without a valid signature
};

const char* to_string(SignaturePolicy policy);

struct AgentConfig {
    mqtt::MqttEndpoint endpoint;  // from LUCID_MQTT_URL or the legacy MQTT_HOST/... variables
    mqtt::TlsFiles tls;
    int keepalive_s = 30;
    std::chrono::milliseconds reconnect_min{1000};
    std::chrono::milliseconds reconnect_max{60000};

    std::string agent_id;
    std::string topic_root = "lucid/agents";
    // Topics outside an agent's subtree: `{fleet_root}/artifacts/...` (broker install sources).
    std::string fleet_root = std::string(contract::kDefaultFleetRoot);
    std::filesystem::path data_dir;
    std::filesystem::path plugin_dir;
    // Off: the directory is neither watched nor read (one inotify instance less per agent);
    // components it installed earlier stay installed.
    bool dropin_enabled = true;
    // Where a component runs when its entry names no isolation: in_process or process.
    std::string default_isolation = "in_process";
    // Who a component's child may run as (run_as); empty: nobody but the agent's own user.
    registry::RunAsAllowed run_as_allowed;
    // lucid-plugin-runner: the setting, else the one beside lucid-agent (always resolved).
    std::filesystem::path plugin_runner;

    std::uint64_t max_artifact_bytes = 64ull * 1024 * 1024;
    int download_timeout_s = 600;
    int download_stall_s = 30;               // a slow-loris server is cut off after this long
    std::filesystem::path trusted_keys_dir;  // empty → no signature verification
    SignaturePolicy signature_policy = SignaturePolicy::optional;
    // A bare base64 signature (no lucid-sig-1 statement) is accepted, with a deprecation warning.
    bool accept_bare_signatures = true;
    std::vector<std::string> allowed_source_prefixes;  // empty → any http(s)/file URL
    std::string github_base_url = "https://github.com";
    Supervision supervision = Supervision::automatic;
    // The initial labels (LUCID_LABELS); a cfg/set of `labels` replaces them from then on.
    contract::Labels labels;
    // A plugin callback running longer makes its component failed/unresponsive.
    std::chrono::milliseconds plugin_stall{10000};
    // An upgraded component that reports failed within this long is rolled back.
    std::chrono::milliseconds upgrade_health{300};
    // A self-updated build of the agent not online and healthy within this long gives up and
    // is rolled back by the launcher (self_update/commit_window.hpp).
    std::chrono::milliseconds upgrade_commit{60000};
    // This build's version (status, metadata): lucid-agent sets the one it was linked with
    // (self_update/build_version.hpp), so that a relinked build reports its own.
    std::string version = LUCID_VERSION;
    // Deaths in a row while one component starts (no plugin caught crashing) that quarantine it.
    int start_deaths_before_quarantine = 3;
    // Ends of an isolated component's child within 10 minutes before it is quarantined.
    int isolated_crashes_before_quarantine = 3;
    // The earlier agent's registry to import once; empty → /var/lib/lucid/components.json.
    std::filesystem::path legacy_registry;
    // Each plugin's queue of commands and messages: beyond either bound, commands are refused
    // (`busy: component queue full: <cid>`) and messages dropped (counted).
    std::uint64_t plugin_queue_max = 1000;
    std::uint64_t plugin_queue_bytes = 16ull * 1024 * 1024;

    // Where each setting came from ("flag", "environment", "env file", "default"), by setting
    // name, for check-config.
    std::map<std::string, std::string> origins;
    std::string env_file;  // the env file that was read, empty when none
};

}  // namespace lucid::host::config
