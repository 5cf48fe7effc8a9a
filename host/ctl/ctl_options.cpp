#include "ctl/ctl_options.hpp"

#include <map>
#include <stdexcept>

namespace lucid::host::ctl {
namespace {

const std::vector<std::string> kCommandOptions = {"sha256",    "id",    "dist",
                                                  "signature", "count", "config"};

const char* const kOverview = R"(usage: lucidctl [--url URL] [--agent ID] [--json] <command>

Drives lucid agents through the MQTT broker.

commands:
  agents                          every agent seen on the broker, with its status
  status                          the agent's status and state
  plugin list                     installed components (the local registry if no broker)
  plugin info ID                  one component: registry entry and live status
  plugin install FILE|URL         install or upgrade a component (FILE goes inline)
  plugin uninstall ID             stop, unload and remove a component
  plugin start|stop|restart ID    runtime control of a component
  plugin enable|disable ID        whether a component starts at boot
  plugin inspect FILE.so          the manifest of an artifact, without loading it
  config get                      the agent's runtime config
  config set KEY=VALUE...         change heartbeat_s, log_level, telemetry_enabled
  refresh                         republish every retained snapshot
  ping                            round trip to the agent
  watch                           print every message of the agent as it arrives

options:
  --url URL         broker (default: $LUCID_MQTT_URL, else mqtt://127.0.0.1:1883)
  --agent ID        agent id (default: $LUCID_AGENT_ID, else from the host name)
  --root ROOT       topic root (default: lucid/agents)
  --data-dir DIR    data directory for the offline registry (default: as the agent's)
  --json            machine-readable output
  --timeout SECS    how long to wait for the broker and the agent (default 10)
  --help            help for any command: lucidctl plugin install --help

exit codes: 0 ok, 1 the agent answered ok:false, 2 usage, 3 broker unreachable or no answer
)";

const std::map<std::string, std::string> kHelp = {
    {"agents",
     "usage: lucidctl agents\n\nLists every agent whose retained status is on the "
     "broker under the topic root:\nagent id, state, version, session, uptime.\n"},
    {"status", "usage: lucidctl status\n\nShows the agent's retained status and core/state.\n"},
    {"plugin list",
     "usage: lucidctl plugin list\n\nLists the components of the agent's retained "
     "core/components snapshot.\nWithout a broker, reads the local registry (--data-dir) and says "
     "so.\n"},
    {"plugin info",
     "usage: lucidctl plugin info ID\n\nShows one component's registry entry "
     "and live state.\n"},
    {"plugin install",
     "usage: lucidctl plugin install FILE.so [--id ID] [--signature BASE64] [--config JSON]\n"
     "       lucidctl plugin install URL --sha256 HEX [--id ID] [--signature BASE64] "
     "[--config JSON]\n\n"
     "A local FILE is sent inline through the broker (the agent needs no access to it);\n"
     "its sha256 is computed here and its component id read from its manifest unless --id.\n"
     "A URL is downloaded by the agent; --sha256 is mandatory (file:// URLs are hashed here).\n"
     "--config sets the component's config object at install time.\n"
     "Shows a progress bar while the agent downloads.\n"},
    {"plugin uninstall",
     "usage: lucidctl plugin uninstall ID [--dist DIST_NAME]\n\n--dist names the distribution "
     "of a legacy entry whose dist_name the registry lacks.\n"},
    {"plugin inspect",
     "usage: lucidctl plugin inspect FILE.so\n\nPrints the manifest embedded "
     "in the artifact, read without loading it.\n"},
    {"config get",
     "usage: lucidctl config get\n\nShows the agent's runtime config "
     "(core/cfg/state).\n"},
    {"config set",
     "usage: lucidctl config set KEY=VALUE...\n\nKeys: heartbeat_s (5-3600), log_level (DEBUG, "
     "INFO, WARNING, ERROR),\ntelemetry_enabled (true|false).\n"},
    {"refresh",
     "usage: lucidctl refresh\n\nAsks the agent to republish every retained "
     "snapshot.\n"},
    {"ping",
     "usage: lucidctl ping [--count N]\n\nMeasures the command round trip to the "
     "agent.\n"},
    {"watch",
     "usage: lucidctl watch\n\nPrints every message under the agent's topics until "
     "interrupted or the output is closed.\n"},
};

}  // namespace

CtlOptions parse_ctl_options(const std::vector<std::string>& args) {
    CtlOptions o;
    for (std::size_t i = 0; i < args.size(); ++i) {
        std::string arg = args[i];
        std::optional<std::string> inline_value;
        if (arg.rfind("--", 0) == 0) {
            if (auto eq = arg.find('='); eq != std::string::npos) {
                inline_value = arg.substr(eq + 1);
                arg = arg.substr(0, eq);
            }
        }
        auto value = [&]() -> std::optional<std::string> {
            if (inline_value) return inline_value;
            if (i + 1 < args.size()) return args[++i];
            o.error = "option " + arg + " needs a value";
            return std::nullopt;
        };
        if (arg == "--help" || arg == "-h") {
            o.help = true;
        } else if (arg == "--json") {
            o.json = true;
        } else if (arg == "--url") {
            o.url = value();
        } else if (arg == "--agent") {
            o.agent = value();
        } else if (arg == "--root") {
            o.root = value();
        } else if (arg == "--data-dir") {
            o.data_dir = value();
        } else if (arg == "--timeout") {
            auto v = value();
            if (!v) break;
            try {
                std::size_t used = 0;
                const double seconds = std::stod(*v, &used);
                if (used != v->size() || seconds <= 0 || seconds > 3600)
                    throw std::out_of_range("");
                o.timeout = std::chrono::milliseconds(static_cast<long>(seconds * 1000));
            } catch (const std::exception&) {
                o.error = "--timeout must be a number of seconds between 0 and 3600";
            }
        } else if (arg.rfind("--", 0) == 0) {
            const std::string name = arg.substr(2);
            bool known = false;
            for (const auto& option : kCommandOptions) known = known || option == name;
            if (!known) {
                o.error = "unknown option " + arg;
                break;
            }
            auto v = value();
            if (v) o.command_options.emplace_back(name, *v);
        } else {
            o.words.push_back(arg);
        }
        if (!o.error.empty()) break;
    }
    return o;
}

std::optional<std::string> command_option(const CtlOptions& options, const std::string& name) {
    for (const auto& [key, value] : options.command_options) {
        if (key == name) return value;
    }
    return std::nullopt;
}

std::string ctl_help(const std::vector<std::string>& words) {
    if (words.size() >= 2) {
        std::string key = words[0] + " " + words[1];
        for (const char* action : {"start", "stop", "restart", "enable", "disable"}) {
            if (words[0] == "plugin" && words[1] == action) {
                return "usage: lucidctl plugin " + words[1] +
                       " ID\n\nstart/stop/restart act now; enable/disable decide whether the "
                       "component starts at boot.\n";
            }
        }
        if (auto it = kHelp.find(key); it != kHelp.end()) return it->second;
    }
    if (words.size() >= 1) {
        if (auto it = kHelp.find(words[0]); it != kHelp.end()) return it->second;
    }
    return kOverview;
}

}  // namespace lucid::host::ctl
