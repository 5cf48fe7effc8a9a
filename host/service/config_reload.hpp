// SIGHUP (`systemctl reload lucid-agent`): re-read the env file and apply what can change while
// the agent runs — the trusted keys, the signature policy and the allowed source prefixes —
// and log (WARN) every other setting that changed, which needs a restart.
//
// A reload never makes things worse: a config that no longer resolves is logged (ERROR) and
// nothing changes; a trusted-keys directory that yields no usable key keeps the old key set
// (ERROR) while the policy and prefixes still apply, so a broken key directory can never turn
// signature checking off.
//
// Thread: reload() on the main thread (ShutdownSignal::wait); installs read the policy through
// LiveInstallPolicy from any thread.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "config/agent_config.hpp"
#include "config/command_line.hpp"
#include "install/install_policy.hpp"

namespace lucid::host::service {

// The settings that differ and need a restart, one line each:
// "mqtt_url changed from 'mqtt://a:1883' to 'mqtt://b:1883' (env file LUCID_MQTT_URL)". Pure.
// `labels_stored`: a cfg/set stored labels, which win over LUCID_LABELS: no line for labels.
std::vector<std::string> restart_needed_changes(const config::AgentConfig& running,
                                                const config::AgentConfig& fresh,
                                                bool labels_stored = false);

class ConfigReloader {
  public:
    // `cli`: the command line the agent started with (it chooses the env file again);
    // `running`: the config it runs with; `keys`: the trusted keys it loaded at start.
    ConfigReloader(config::CommandLine cli, config::AgentConfig running,
                   std::shared_ptr<const install::TrustedKeySet> keys,
                   install::LiveInstallPolicy& policy);

    void reload();

  private:
    config::CommandLine cli_;
    config::AgentConfig running_;
    std::shared_ptr<const install::TrustedKeySet> keys_;
    install::LiveInstallPolicy& policy_;
};

}  // namespace lucid::host::service
