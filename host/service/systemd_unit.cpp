#include "service/systemd_unit.hpp"

#include <grp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <set>
#include <system_error>

#include "common/atomic_file.hpp"

namespace lucid::host::service {
namespace fs = std::filesystem;
namespace {

constexpr const char* kRuntimeEnvFile = "/run/lucid/agent.env";
constexpr const char* kUnitName = "lucid-agent.service";
constexpr const char* kDeviceDropin = "device-access.conf";

// `path` (absolute, as the unit names it) inside the staging root.
fs::path under(const fs::path& root, const fs::path& path) { return root / path.relative_path(); }

// The group names of `root`'s group database: its etc/group when there is one (a staging root
// for another machine), else this machine's.
std::set<std::string> groups_of(const fs::path& root, const std::vector<std::string>& wanted) {
    std::set<std::string> found;
    const fs::path file = under(root, "/etc/group");
    std::error_code ec;
    if (root != "/" && fs::exists(file, ec)) {
        std::ifstream in(file);
        for (std::string line; std::getline(in, line);) {
            const std::string name = line.substr(0, line.find(':'));
            for (const auto& w : wanted) {
                if (w == name) found.insert(name);
            }
        }
        return found;
    }
    for (const auto& w : wanted) {
        if (::getgrnam(w.c_str()) != nullptr) found.insert(w);
    }
    return found;
}

}  // namespace

std::string systemd_unit_text(const UnitOptions& o) {
    const std::string stage =
        o.agent_binary + " stage-env-file " + o.env_file + " " + kRuntimeEnvFile;
    return "# Written by `lucid-agent install-service`; `lucid-agent uninstall-service` removes "
           "it.\n"
           "[Unit]\n"
           "Description=lucid agent: device plugin host over MQTT\n"
           "Documentation=file:/usr/share/doc/lucid-agent/README.md "
           "file:/usr/share/doc/lucid-agent/SECURITY.md\n"
           "Wants=network-online.target\n"
           "After=network-online.target\n"
           "# A crash loop stops after 10 starts in 5 minutes (systemctl reset-failed "
           "lucid-agent).\n"
           "StartLimitIntervalSec=300\n"
           "StartLimitBurst=10\n"
           "\n"
           "[Service]\n"
           "Type=notify\n"
           "# The env file is root's (0640, it may hold a password): PID 1 copies it for the\n"
           "# service user at start and at `systemctl reload`, which then sends SIGHUP.\n"
           "RuntimeDirectory=lucid\n"
           "RuntimeDirectoryMode=0700\n"
           "Environment=LUCID_ENV_FILE=" +
           std::string(kRuntimeEnvFile) +
           "\n"
           "Environment=LUCID_DATA_DIR=/var/lib/lucid\n"
           "Environment=LUCID_SUPERVISED=yes\n"
           "ExecStartPre=+" +
           stage +
           "\n"
           "ExecStart=" +
           o.agent_binary +
           " run\n"
           "ExecReload=+" +
           stage +
           "\n"
           "ExecReload=/bin/kill -HUP $MAINPID\n"
           "Restart=on-failure\n"
           "RestartSec=2\n"
           "# 75: the `restart` command; a clean exit that must be started again.\n"
           "SuccessExitStatus=75\n"
           "RestartForceExitStatus=75\n"
           "WatchdogSec=60\n"
           "TimeoutStopSec=30\n"
           "# A dedicated unprivileged user; /var/lib/lucid belongs to it and nobody else can\n"
           "# read it (/var/lib/private is 0700).\n"
           "DynamicUser=yes\n"
           "StateDirectory=lucid\n"
           "StateDirectoryMode=0750\n"
           "UMask=0027\n"
           "# Hardening: the agent needs its state directory and the network, nothing else.\n"
           "# Plugins that use devices: lucid-agent install-service --device-access.\n"
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

std::string device_access_dropin_text(const std::vector<std::string>& groups) {
    std::string text =
        "# Written by `lucid-agent install-service --device-access`: plugins may use GPIO, I2C\n"
        "# and serial devices; every other device stays hidden. Remove it with\n"
        "# `lucid-agent install-service` (without --device-access).\n"
        "[Service]\n"
        "PrivateDevices=no\n"
        "# closed: the listed classes plus /dev/null, /dev/zero, /dev/full, /dev/random, "
        "/dev/urandom\n"
        "DevicePolicy=closed\n";
    for (const char* device : kDeviceClasses)
        text += "DeviceAllow=" + std::string(device) + " rw\n";
    if (!groups.empty()) {
        text += "# The device groups that existed when this was written.\nSupplementaryGroups=";
        for (std::size_t i = 0; i < groups.size(); ++i) text += (i ? " " : "") + groups[i];
        text += "\n";
    }
    text +=
        "# AF_NETLINK: udev and network-state queries of device libraries.\n"
        "RestrictAddressFamilies=\n"
        "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK\n";
    return text;
}

std::string default_env_file_text() {
    return "# lucid-agent settings (see `lucid-agent --help`). Mode 0640: it may hold a password.\n"
           "# KEY=VALUE; a ` #` starts a comment unless the value is quoted (\"a #b\").\n"
           "# After an edit: systemctl reload lucid-agent (keys, signature policy, prefixes)\n"
           "# or systemctl restart lucid-agent (everything else).\n"
           "LUCID_MQTT_URL=mqtt://127.0.0.1:1883\n"
           "# LUCID_AGENT_ID=my-device\n"
           "# LUCID_TLS_CA=/etc/lucid/ca.pem\n"
           "# LUCID_TRUSTED_KEYS_DIR=/etc/lucid/trusted-keys\n"
           "# LUCID_SIGNATURE_POLICY=required\n"
           "# LUCID_ACCEPT_BARE_SIGNATURES=no\n";
}

std::string agent_binary_warning(const fs::path& binary) {
    const std::string path = binary.string();
    auto starts = [&](const char* prefix) { return path.rfind(prefix, 0) == 0; };
    if (starts("/tmp/") || starts("/var/tmp/")) {
        return "ExecStart=" + path + " is under a temporary directory, which PrivateTmp=yes " +
               "hides from the service: install the agent (e.g. the .deb) and run " +
               "install-service from /usr/bin/lucid-agent";
    }
    if (starts("/home/") || starts("/root/") || starts("/run/user/")) {
        return "ExecStart=" + path + " is under a home directory, which ProtectHome=yes hides " +
               "from the service: install the agent and run install-service from there";
    }
    std::error_code ec;
    for (fs::path dir = binary.parent_path(); !dir.empty() && dir != dir.root_path();
         dir = dir.parent_path()) {
        if (fs::exists(dir / "CMakeCache.txt", ec)) {
            return "ExecStart=" + path + " is inside the build tree " + dir.string() +
                   ": the service breaks at the next rebuild or clean; install the agent first";
        }
    }
    return {};
}

std::string install_service(const InstallServiceOptions& o) {
    const fs::path unit_dir = under(o.root, o.unit_dir);
    fs::create_directories(unit_dir);
    const fs::path unit = unit_dir / kUnitName;
    write_file_atomically(unit, systemd_unit_text(o.unit), real_file_ops(), 0644);
    std::string summary = "wrote " + unit.string() + "\n";
    const fs::path dropin_dir = unit_dir / (std::string(kUnitName) + ".d");
    const fs::path dropin = dropin_dir / kDeviceDropin;
    std::error_code ec;
    if (o.device_access) {
        std::vector<std::string> wanted(std::begin(kDeviceGroups), std::end(kDeviceGroups));
        if (!o.device_groups.empty()) wanted = o.device_groups;
        const auto present = groups_of(o.root, wanted);
        std::vector<std::string> groups;
        for (const auto& g : wanted) {
            if (present.count(g)) {
                groups.push_back(g);
            } else {
                summary += "note: group " + g + " does not exist here; not added\n";
            }
        }
        fs::create_directories(dropin_dir);
        write_file_atomically(dropin, device_access_dropin_text(groups), real_file_ops(), 0644);
        summary += "wrote " + dropin.string() + " (GPIO, I2C and serial devices)\n";
    } else if (fs::remove(dropin, ec)) {
        summary += "removed " + dropin.string() + " (no --device-access)\n";
        fs::remove(dropin_dir, ec);  // only when empty
    }
    const fs::path env_file = under(o.root, o.unit.env_file);
    if (fs::exists(env_file, ec)) {
        summary += "kept " + env_file.string() + " (already there)\n";
    } else {
        fs::create_directories(env_file.parent_path());
        write_file_atomically(env_file, default_env_file_text(), real_file_ops(), 0640);
        summary += "wrote " + env_file.string() + " (mode 0640: edit the broker URL there)\n";
    }
    summary += "next: systemctl daemon-reload && systemctl enable --now lucid-agent\n";
    return summary;
}

std::string uninstall_service(const InstallServiceOptions& o) {
    const fs::path unit_dir = under(o.root, o.unit_dir);
    const fs::path unit = unit_dir / kUnitName;
    const fs::path dropin_dir = unit_dir / (std::string(kUnitName) + ".d");
    std::string summary;
    std::error_code ec;
    if (fs::remove(dropin_dir / kDeviceDropin, ec)) {
        summary += "removed " + (dropin_dir / kDeviceDropin).string() + "\n";
    }
    if (ec) throw std::system_error(ec, (dropin_dir / kDeviceDropin).string());
    fs::remove(dropin_dir, ec);  // only when empty: an operator's own overrides stay
    if (fs::remove(unit, ec)) {
        summary += "removed " + unit.string() + "\n";
    } else if (ec) {
        throw std::system_error(ec, unit.string());
    } else {
        summary += unit.string() + " was not there\n";
    }
    summary += "kept " + under(o.root, o.unit.env_file).string() +
               " and /var/lib/lucid (settings and state for a reinstall)\n"
               "next: systemctl daemon-reload (run systemctl disable --now lucid-agent first)\n";
    return summary;
}

void stage_env_file(const fs::path& source, const fs::path& target) {
    std::string text;
    try {
        text = read_file(source);
    } catch (const std::system_error& e) {
        throw std::system_error(e.code(), "env file " + source.string());
    }
    struct stat dir {};
    if (::stat(target.parent_path().c_str(), &dir) != 0) {
        throw std::system_error(errno, std::generic_category(), target.parent_path().string());
    }
    write_file_atomically(target, text, real_file_ops(), 0600);
    // The service user owns its RuntimeDirectory; the copy becomes its alone.
    if (::chown(target.c_str(), dir.st_uid, dir.st_gid) != 0) {
        const int err = errno;
        std::error_code ec;
        fs::remove(target, ec);
        throw std::system_error(err, std::generic_category(), "chown " + target.string());
    }
}

}  // namespace lucid::host::service
