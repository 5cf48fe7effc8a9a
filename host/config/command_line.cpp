#include "config/command_line.hpp"

#include <algorithm>

#include "config/settings.hpp"

namespace lucid::host::config {

const std::vector<std::string>& value_flags() {
    static const std::vector<std::string> flags = [] {
        std::vector<std::string> out;
        for (const auto& s : kSettings) out.emplace_back(s.flag);
        out.emplace_back(kEnvFileFlag);
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
        if (subcommand_seen) {
            cli.error = "unexpected argument '" + arg + "'";
            return cli;
        }
        if (arg != "run" && arg != "check-config" && arg != "install-service") {
            cli.error =
                "unknown command '" + arg + "' (expected run, check-config or install-service)";
            return cli;
        }
        cli.subcommand = arg;
        subcommand_seen = true;
    }
    return cli;
}

std::string usage_text() {
    std::string text =
        "usage: lucid-agent [run|check-config|install-service] [options]\n"
        "       lucid-agent --version\n\n"
        "  run           run the agent (default)\n"
        "  check-config  print the resolved configuration (passwords redacted) and exit\n"
        "  install-service  write /etc/systemd/system/lucid-agent.service (or into\n"
        "                $LUCID_SYSTEMD_UNIT_DIR) and, when missing, the env file (mode 0640)\n\n"
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
