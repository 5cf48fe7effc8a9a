// lucid-agent: the device agent. A thin main: parse the command line, resolve the config (see
// config/config_resolver.hpp for the precedence), then run the Agent.
//
// Exit codes: 0 clean stop, 1 runtime failure, 2 usage or configuration error (also: the data
// directory is held by another agent),
// 75 restart requested by the `restart` command (the service manager starts us again).
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "agent/agent.hpp"
#include "agent/host_facts.hpp"
#include "agent/shutdown_signal.hpp"
#include "common/logging.hpp"
#include "components/component_host.hpp"
#include "config/command_line.hpp"
#include "config/config_report.hpp"
#include "config/load_config.hpp"
#include "plugin/crash_record.hpp"
#include "service/systemd_notify.hpp"
#include "service/systemd_unit.hpp"

namespace {

using namespace lucid::host;

int usage_error(const std::string& message) {
    std::fprintf(stderr, "lucid-agent: %s\n(see lucid-agent --help)\n", message.c_str());
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    // A broker that closes a TLS socket must not kill us with SIGPIPE.
    std::signal(SIGPIPE, SIG_IGN);

    const auto cli = config::parse_command_line(std::vector<std::string>(argv + 1, argv + argc));
    if (!cli.error.empty()) return usage_error(cli.error);
    if (cli.show_help) {
        std::fputs(config::usage_text().c_str(), stdout);
        return 0;
    }
    if (cli.show_version) {
        std::printf("lucid-agent %s\n", LUCID_VERSION);
        return 0;
    }

    // Before the config is resolved: it writes the env file that the config will be read from.
    if (cli.subcommand == "install-service") {
        try {
            service::UnitOptions options;
            options.agent_binary = std::filesystem::canonical("/proc/self/exe").string();
            if (auto it = cli.flags.find("--env-file"); it != cli.flags.end()) {
                options.env_file = it->second;
            }
            const char* unit_dir = std::getenv("LUCID_SYSTEMD_UNIT_DIR");
            std::fputs(
                service::install_service(options, unit_dir ? unit_dir : "/etc/systemd/system")
                    .c_str(),
                stdout);
            return 0;
        } catch (const std::exception& e) {
            std::fprintf(stderr, "lucid-agent: install-service failed: %s\n", e.what());
            return 1;
        }
    }

    auto resolved = config::load_config(cli);
    if (!resolved.config) return usage_error(resolved.error);

    if (cli.subcommand == "check-config") {
        std::fputs(config::describe_config(*resolved.config).c_str(), stdout);
        return 0;
    }

    try {
        agent::ShutdownSignal shutdown;  // first: threads started later inherit the signal mask
        agent::Agent agent(std::move(*resolved.config), shutdown);
        // Before any plugin runs: a plugin that takes the agent down is named at the next start.
        crash::install_fatal_signal_handler(crash::record_path(agent.config().data_dir));
        components::ComponentHost components(agent);
        agent.on_stop_requested([] { service::notify("STOPPING=1"); });
        agent.on_stop_requested([&components] { components.cancel_downloads(); });
        // Plugins stop while the session is still up, so their last messages leave the device.
        agent.on_shutdown([&components] { components.stop(); });
        components.start();
        service::WatchdogFeeder watchdog(
            [&agent] { return agent.dispatcher().responsive(std::chrono::seconds(5)); });
        service::notify("READY=1");
        return agent.run();
    } catch (const lucid::registry::DataDirInUse& e) {
        // Like every configuration error: exit 2, the message names the directory and holder.
        logger("agent")->critical("{}", e.what());
        return 2;
    } catch (const std::exception& e) {
        logger("agent")->critical("fatal: {}", e.what());
        return 1;
    }
}
