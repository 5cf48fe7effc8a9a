// lucidctl: the operator's CLI (SPEC §9). A thin main: parse the command line, resolve the
// broker, agent id and data dir exactly as lucid-agent would (same flags, environment and env
// file), then run the command.
#include <csignal>
#include <iostream>
#include <string>
#include <vector>

#include "config/load_config.hpp"
#include "ctl/ctl_commands.hpp"
#include "ctl/ctl_options.hpp"

using namespace lucid::host;

int main(int argc, char** argv) {
    std::signal(SIGPIPE, SIG_IGN);
    const auto options = ctl::parse_ctl_options(std::vector<std::string>(argv + 1, argv + argc));
    if (options.help) {
        std::cout << ctl::ctl_help(options.words);
        return ctl::kOk;
    }
    if (!options.error.empty() || options.words.empty()) {
        std::cerr << "lucidctl: " << (options.error.empty() ? "missing command" : options.error)
                  << "\n\n"
                  << ctl::ctl_help(options.words);
        return ctl::kUsage;
    }

    config::CommandLine cli;
    if (options.url) cli.flags["--mqtt-url"] = *options.url;
    if (options.agent) cli.flags["--agent-id"] = *options.agent;
    if (options.root) cli.flags["--topic-root"] = *options.root;
    if (options.data_dir) cli.flags["--data-dir"] = *options.data_dir;
    const auto resolved = config::load_config(cli);
    for (const auto& w : resolved.warnings) std::cerr << "lucidctl: warning: " << w << "\n";
    if (!resolved.config) {
        std::cerr << "lucidctl: " << resolved.error << "\n";
        return ctl::kUsage;
    }
    const auto& c = *resolved.config;
    const ctl::CtlTarget target{c.endpoint, c.tls, c.agent_id, c.topic_root, c.data_dir};
    return ctl::run_ctl_command(options, target, std::cout, std::cerr);
}
