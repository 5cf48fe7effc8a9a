// lucidctl: the operator's CLI (contract §9). A thin main: parse the command line, resolve the
// broker, TLS files, agent id and data dir exactly as lucid-agent would (the same settings,
// environment and env file, under lucidctl's flag names), then run the command.
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "config/load_config.hpp"
#include "config/settings.hpp"
#include "lucidctl/commands.hpp"
#include "lucidctl/options.hpp"

using namespace lucid::host;

namespace {

bool set_in_environment(std::string_view name) {
    const char* value = std::getenv(std::string(name).c_str());
    return value && *value;
}

// The default env file is read when it is there and readable. A non-root operator on a device
// whose /etc/lucid/agent.env is root-only was not asked for it: lucidctl goes on without it
// (saying so when the broker then comes from the defaults) instead of failing.
void skip_unreadable_default_env_file(config::CommandLine& cli, const ctl::CtlOptions& options) {
    if (options.env_file || set_in_environment(config::kEnvFileVariable)) return;
    const std::string path(config::kDefaultEnvFile);
    if (::access(path.c_str(), F_OK) != 0 || ::access(path.c_str(), R_OK) == 0) return;
    const std::string reason = std::strerror(errno);
    cli.flags[std::string(config::kEnvFileFlag)] = "/dev/null";
    if (!options.url && !set_in_environment("LUCID_MQTT_URL")) {
        std::cerr << "lucidctl: note: not reading " << path << " (" << reason
                  << "); give --url or --env-file, or set LUCID_MQTT_URL\n";
    }
}

}  // namespace

int main(int argc, char** argv) {
    std::signal(SIGPIPE, SIG_IGN);
    const auto options = ctl::parse_ctl_options(std::vector<std::string>(argv + 1, argv + argc));
    if (!options.error.empty()) {
        ctl::print_usage_error(std::cerr, options.error, options.words);
        if (options.json) ctl::print_json_error(std::cout, options.error);
        return ctl::kUsage;
    }
    if (options.version) {
        std::cout << "lucidctl " << LUCID_VERSION << "\n";
        return ctl::kOk;
    }
    if (options.help) {
        std::cout << ctl::ctl_help(options.words);
        return ctl::kOk;
    }
    if (options.words.empty()) {
        ctl::print_usage_error(std::cerr, "missing command", options.words);
        if (options.json) ctl::print_json_error(std::cout, "missing command");
        return ctl::kUsage;
    }

    // lucidctl's flags are the agent's settings under other names; errors use lucidctl's.
    config::CommandLine cli;
    auto flag = [&](const std::optional<std::string>& value, const char* agent_flag,
                    const std::string& ctl_flag) {
        if (!value) return;
        cli.flags[agent_flag] = *value;
        cli.flag_names[agent_flag] = ctl_flag;
    };
    flag(options.url, "--mqtt-url", options.url_flag);
    flag(options.agent, "--agent-id", "--agent");
    flag(options.root, "--topic-root", "--root");
    flag(options.fleet_root, "--fleet-root", "--fleet-root");
    flag(options.data_dir, "--data-dir", "--data-dir");
    flag(options.tls_ca, "--tls-ca", "--tls-ca");
    flag(options.tls_cert, "--tls-cert", "--tls-cert");
    flag(options.tls_key, "--tls-key", "--tls-key");
    flag(options.env_file, "--env-file", "--env-file");
    skip_unreadable_default_env_file(cli, options);
    const auto resolved = config::load_config(cli);
    for (const auto& w : resolved.warnings) std::cerr << "lucidctl: warning: " << w << "\n";
    if (!resolved.config) {
        std::cerr << "lucidctl: " << resolved.error << "\n";
        if (options.json) ctl::print_json_error(std::cout, resolved.error);
        return ctl::kUsage;
    }
    const auto& c = *resolved.config;
    const ctl::CtlTarget target{c.endpoint,
                                c.tls,
                                c.agent_id,
                                c.topic_root,
                                c.fleet_root,
                                c.data_dir,
                                c.max_artifact_bytes,
                                c.origins.count("max_artifact_bytes")
                                    ? c.origins.at("max_artifact_bytes")
                                    : std::string("default"),
                                c.trusted_keys_dir,
                                c.accept_bare_signatures};
    return ctl::run_ctl_command(options, target, std::cout, std::cerr);
}
