#include "service/systemd_unit.hpp"

#include <sys/stat.h>

#include "lucid/registry/atomic_file.hpp"

namespace lucid::host::service {
namespace fs = std::filesystem;

std::string systemd_unit_text(const UnitOptions& o) {
    return "# Written by `lucid-agent install-service`.\n"
           "[Unit]\n"
           "Description=lucid agent: device plugin host over MQTT\n"
           "Wants=network-online.target\n"
           "After=network-online.target\n"
           "\n"
           "[Service]\n"
           "Type=notify\n"
           "ExecStart=" +
           o.agent_binary + " run --env-file " + o.env_file +
           "\n"
           "Environment=LUCID_DATA_DIR=/var/lib/lucid\n"
           "Environment=LUCID_SUPERVISED=yes\n"
           "Restart=on-failure\n"
           "RestartSec=2\n"
           "WatchdogSec=60\n"
           "TimeoutStopSec=30\n"
           "# A dedicated unprivileged user; /var/lib/lucid belongs to it.\n"
           "DynamicUser=yes\n"
           "StateDirectory=lucid\n"
           "StateDirectoryMode=0750\n"
           "UMask=0027\n"
           "# Hardening: the agent needs its state directory and the network, nothing else.\n"
           "NoNewPrivileges=yes\n"
           "ProtectSystem=strict\n"
           "ProtectHome=yes\n"
           "PrivateTmp=yes\n"
           "PrivateDevices=yes\n"
           "ProtectKernelTunables=yes\n"
           "ProtectKernelModules=yes\n"
           "ProtectControlGroups=yes\n"
           "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6\n"
           "RestrictNamespaces=yes\n"
           "LockPersonality=yes\n"
           "\n"
           "[Install]\n"
           "WantedBy=multi-user.target\n";
}

std::string default_env_file_text() {
    return "# lucid-agent settings (see `lucid-agent --help`). Mode 0640: it may hold a password.\n"
           "LUCID_MQTT_URL=mqtt://127.0.0.1:1883\n"
           "# LUCID_AGENT_ID=my-device\n"
           "# LUCID_TLS_CA=/etc/lucid/ca.pem\n"
           "# LUCID_TRUSTED_KEYS_DIR=/etc/lucid/trusted-keys\n"
           "# LUCID_SIGNATURE_POLICY=required\n";
}

std::string install_service(const UnitOptions& options, const fs::path& unit_dir) {
    fs::create_directories(unit_dir);
    const fs::path unit = unit_dir / "lucid-agent.service";
    registry::write_file_atomically(unit, systemd_unit_text(options), registry::real_file_ops(),
                                    0644);
    std::string summary = "wrote " + unit.string() + "\n";
    const fs::path env_file = options.env_file;
    std::error_code ec;
    if (fs::exists(env_file, ec)) {
        summary += "kept " + env_file.string() + " (already there)\n";
    } else {
        fs::create_directories(env_file.parent_path());
        registry::write_file_atomically(env_file, default_env_file_text(),
                                        registry::real_file_ops(), 0640);
        summary += "wrote " + env_file.string() + " (mode 0640: edit the broker URL there)\n";
    }
    summary += "next: systemctl daemon-reload && systemctl enable --now lucid-agent\n";
    return summary;
}

}  // namespace lucid::host::service
