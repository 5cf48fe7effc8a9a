#include "config/command_line.hpp"

#include <algorithm>

#include "config/settings.hpp"

namespace lucid::host::config {

const std::vector<std::string>& value_flags() {
    static const std::vector<std::string> flags = [] {
        std::vector<std::string> out;
        for (const auto& s : kSettings) out.emplace_back(s.flag);
        out.emplace_back(kEnvFileFlag);
        out.emplace_back("--root");
        out.emplace_back("--to");  // floor reset DIST --to VERSION
        return out;
    }();
    return flags;
}

CommandLine parse_command_line(const std::vector<std::string>& args) {
    CommandLine cli;
    bool subcommand_seen = false;
    const auto& known = value_flags();
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& arg = args[i];
        if (arg == "--version" || arg == "-V") {
            cli.show_version = true;
            continue;
        }
        if (arg == "--help" || arg == "-h") {
            cli.show_help = true;
            continue;
        }
        if (arg == "--device-access") {
            cli.device_access = true;
            continue;
        }
        if (arg.rfind("--", 0) == 0) {
            const auto eq = arg.find('=');
            const std::string name = arg.substr(0, eq);
            if (std::find(known.begin(), known.end(), name) == known.end()) {
                cli.error = "unknown option " + name;
                return cli;
            }
            std::string value;
            if (eq != std::string::npos) {
                value = arg.substr(eq + 1);
            } else if (i + 1 < args.size()) {
                value = args[++i];
            } else {
                cli.error = "option " + name + " needs a value";
                return cli;
            }
            cli.flags[name] = value;
            continue;
        }
        if (subcommand_seen && (cli.subcommand == "stage-env-file" || cli.subcommand == "floor") &&
            cli.arguments.size() < 2) {
            cli.arguments.push_back(arg);
            continue;
        }
        if (subcommand_seen) {
            cli.error = "unexpected argument '" + arg + "'";
            return cli;
        }
        if (arg != "run" && arg != "check-config" && arg != "install-service" &&
            arg != "uninstall-service" && arg != "stage-env-file" && arg != "floor") {
            cli.error = "unknown command '" + arg +
                        "' (expected run, check-config, install-service, uninstall-service, "
                        "stage-env-file or floor)";
            return cli;
        }
        cli.subcommand = arg;
        subcommand_seen = true;
    }
    const bool service_command =
        cli.subcommand == "install-service" || cli.subcommand == "uninstall-service";
    if (cli.device_access && cli.subcommand != "install-service") {
        cli.error = "--device-access belongs to install-service";
    } else if (cli.flags.count("--root") && !service_command) {
        cli.error = "--root belongs to install-service and uninstall-service";
    } else if (cli.subcommand == "stage-env-file" && cli.arguments.size() != 2) {
        cli.error = "stage-env-file needs SRC and DST";
    } else if (cli.subcommand == "floor") {
        const bool list = cli.arguments.size() == 1 && cli.arguments[0] == "list";
        const bool reset = cli.arguments.size() == 2 && cli.arguments[0] == "reset";
        if (!list && !reset) {
            cli.error = "floor needs list, or reset DIST [--to VERSION]";
        } else if (cli.flags.count("--to") && !reset) {
            cli.error = "--to belongs to floor reset";
        }
    } else if (cli.flags.count("--to")) {
        cli.error = "--to belongs to floor reset";
    }
    return cli;
}

std::string usage_text() {
    std::string text =
        "usage: lucid-agent [run|check-config] [options]\n"
        "       lucid-agent install-service [--root DIR] [--device-access] [--env-file PATH]\n"
        "       lucid-agent uninstall-service [--root DIR]\n"
        "       lucid-agent floor list | floor reset DIST [--to VERSION]\n"
        "       lucid-agent --version\n\n"
        "  run           run the agent (default); SIGHUP re-reads the env file and applies the\n"
        "                trusted keys, signature policy and allowed source prefixes\n"
        "  check-config  print the resolved configuration (passwords redacted), the TLS files\n"
        "                and trusted keys it checked; exit 2 on a problem\n"
        "  install-service  write /etc/systemd/system/lucid-agent.service (or into\n"
        "                $LUCID_SYSTEMD_UNIT_DIR) and, when missing, the env file (mode 0640);\n"
        "                --root DIR writes under a staging root; --device-access adds a drop-in\n"
        "                that lets plugins use GPIO, I2C and serial devices\n"
        "  uninstall-service  remove the unit and its drop-in (the env file and data stay)\n"
        "  stage-env-file SRC DST  copy the env file for the service user (used by the unit)\n"
        "  floor list    print each dist's version floor (the lowest version an install may\n"
        "                bring without allow_downgrade) from the data directory's trust state\n"
        "  floor reset DIST [--to VERSION]  remove DIST's floor, or lower it to VERSION (root\n"
        "                only, on the device; a running agent follows at its next install)\n\n"
        "Each setting is taken from its flag, else the environment, else the env file\n"
        "(--env-file, $LUCID_ENV_FILE, or /etc/lucid/agent.env when present), else its default.\n\n"
        "options (environment variable):\n";
    for (const auto& s : kSettings) {
        text += "  ";
        text += s.flag;
        text += " (";
        text += s.env;
        text += ")\n      ";
        text += s.help;
        text += "\n";
    }
    text += "  --env-file PATH (LUCID_ENV_FILE)\n";
    text +=
        "legacy variables, used when LUCID_MQTT_URL is set nowhere: MQTT_HOST, MQTT_PORT,\n"
        "AGENT_USERNAME, AGENT_PASSWORD\n";
    return text;
}

}  // namespace lucid::host::config
