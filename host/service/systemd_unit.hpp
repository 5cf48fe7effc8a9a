// `lucid-agent install-service`: the systemd unit and env file that run the agent for real.
//
// The unit runs the agent as a dynamic, unprivileged user with its state in /var/lib/lucid
// (StateDirectory), restarts it on failure (also after the `restart` command, which exits 75),
// and is Type=notify with a watchdog: the agent says READY=1 once it is serving and feeds
// WATCHDOG=1 (systemd_notify.hpp). The env file holds the broker URL and its password, so it is
// created with mode 0640 and never overwritten. Pure text generation plus one install function.
#pragma once

#include <filesystem>
#include <string>

namespace lucid::host::service {

struct UnitOptions {
    std::string agent_binary = "/usr/bin/lucid-agent";
    std::string env_file = "/etc/lucid/agent.env";
};

std::string systemd_unit_text(const UnitOptions& options);
std::string default_env_file_text();

// Writes `{unit_dir}/lucid-agent.service` (atomically) and, when missing, the env file with mode
// 0640. Returns a human summary of what was written and the next commands to run. Throws
// std::system_error on failure.
std::string install_service(const UnitOptions& options, const std::filesystem::path& unit_dir);

}  // namespace lucid::host::service
