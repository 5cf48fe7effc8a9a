// `lucid-agent install-service` / `uninstall-service`: the systemd unit and env file that run the
// agent for real, written into the real root or a staging root (`--root DIR`, for packaging and
// tests).
//
// The unit runs the agent as a dynamic, unprivileged user with its state in /var/lib/lucid
// (StateDirectory, 0750; systemd keeps /var/lib/private at 0700, so only root and the agent can
// read it), restarts it on failure and after the `restart` command (exit 75), and is
// Type=notify with a watchdog (systemd_notify.hpp).
//
// The env file holds the broker URL and its password: root-owned, mode 0640, never overwritten.
// The dynamic user cannot read it, so PID 1 hands the service a private copy: a `+` (privileged)
// ExecStartPre= runs `lucid-agent stage-env-file`, which copies it into the service's
// RuntimeDirectory (/run/lucid/agent.env, 0600, owned by the service user), and the agent reads
// that copy (LUCID_ENV_FILE). `systemctl reload` stages it again and sends SIGHUP, so a reload
// sees the edited file, parsed by the agent's own env-file rules (EnvironmentFile= would parse
// it differently and could never be re-read by the running service).
//
// `--device-access` adds a drop-in (lucid-agent.service.d/device-access.conf) that keeps the
// hardening but lets plugins reach GPIO, I2C and serial devices: PrivateDevices=no with a closed
// DevicePolicy and DeviceAllow= for those device classes only, the gpio/i2c/dialout groups that
// exist on this machine as SupplementaryGroups=, and AF_NETLINK (udev, network state).
//
// Pure text generation plus install/uninstall functions that throw std::system_error.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace lucid::host::service {

struct UnitOptions {
    std::string agent_binary = "/usr/bin/lucid-agent";
    std::string env_file = "/etc/lucid/agent.env";
};

// The device classes and groups of --device-access.
inline constexpr const char* kDeviceClasses[] = {"char-gpiochip", "char-i2c", "char-ttyS",
                                                 "char-ttyUSB", "char-ttyACM"};
inline constexpr const char* kDeviceGroups[] = {"gpio", "i2c", "dialout"};

std::string systemd_unit_text(const UnitOptions& options);
// The drop-in of --device-access; `groups` are the SupplementaryGroups= (may be empty).
std::string device_access_dropin_text(const std::vector<std::string>& groups);
std::string default_env_file_text();

// Why `binary` is a poor ExecStart= (under /tmp, hidden by PrivateTmp=; under /home or /root,
// hidden by ProtectHome=; inside a build tree); empty when it is fine.
std::string agent_binary_warning(const std::filesystem::path& binary);

struct InstallServiceOptions {
    UnitOptions unit;
    std::filesystem::path root = "/";                        // staging root
    std::filesystem::path unit_dir = "/etc/systemd/system";  // inside root
    bool device_access = false;
    std::vector<std::string> device_groups;  // used when device_access
};

// Writes `{root}{unit_dir}/lucid-agent.service` (atomically), the device-access drop-in (or
// removes it without --device-access) and, when missing, the env file with mode 0640. Returns
// a human summary of what was written and the next commands to run.
std::string install_service(const InstallServiceOptions& options);

// Removes what install_service wrote, except the env file and the data directory (settings and
// state survive a reinstall). Returns a human summary.
std::string uninstall_service(const InstallServiceOptions& options);

// `lucid-agent stage-env-file SRC DST` (the unit's privileged ExecStartPre=/ExecReload=): copies
// SRC to DST atomically with mode 0600, owned by the owner of DST's directory (the service's
// dynamic user). Throws std::system_error naming the file.
void stage_env_file(const std::filesystem::path& source, const std::filesystem::path& target);

}  // namespace lucid::host::service
