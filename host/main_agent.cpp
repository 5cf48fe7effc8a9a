// lucid-agent: the device agent. A thin main: parse the command line, resolve the config (see
// config/config_resolver.hpp for the precedence), then run the Agent.
//
// Exit codes: 0 clean stop, 1 runtime failure, 2 usage or configuration error (also: the data
// directory is held by another agent),
// 75 restart requested by the `restart` command (the service manager starts us again),
// 3 a self-updated build that was not online and healthy within its commit window (the service
// manager starts `lucid-agent run` again, and the launcher rolls it back; contract §8.15).
//
// `run` is the launcher first (self_update/launcher.hpp): it may exec a self-updated build of
// the agent from the data directory instead of running this one.
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/agent.hpp"
#include "agent/component_host.hpp"
#include "agent/core_config.hpp"
#include "agent/desired_agent_target.hpp"
#include "agent/self_upgrade.hpp"
#include "agent/shutdown_signal.hpp"
#include "agent/upgrade_command.hpp"
#include "common/logging.hpp"
#include "config/command_line.hpp"
#include "config/config_report.hpp"
#include "config/host_facts.hpp"
#include "config/load_config.hpp"
#include "config/supervision.hpp"
#include "config/tls_files_check.hpp"
#include "contract/labels.hpp"
#include "install/trust_state.hpp"
#include "install/trusted_keys.hpp"
#include "plugin/crash_record.hpp"
#include "self_update/build_version.hpp"
#include "self_update/launcher.hpp"
#include "service/config_reload.hpp"
#include "service/floor_command.hpp"
#include "service/systemd_notify.hpp"
#include "service/systemd_unit.hpp"

namespace {

using namespace lucid::host;

// Execs the build of the agent the launcher picks, or returns to run this one.
void launch_newest_build(const config::AgentConfig& config,
                         const std::shared_ptr<const install::TrustedKeySet>& keys, char** argv) {
    self_update::LaunchSettings settings;
    settings.data_dir = config.data_dir;
    settings.own_version = config.version;
    if (config.signature_policy == config::SignaturePolicy::required) {
        install::SignaturePolicy policy;
        policy.keys = keys;
        policy.require_signature = true;
        policy.accept_bare_signatures = config.accept_bare_signatures;
        // Revoked keys as an install sees them (components/manager_settings.cpp): the keys
        // directory's revoked/ and the trust state's signed lists.
        policy.revoked = keys->revoked;
        auto lists = install::TrustState(config.data_dir).revocations();
        if (lists) {
            for (auto& [id, why] : install::revoked_keys(lists.value())) {
                policy.revoked.emplace(id, std::move(why));
            }
        } else if (lists.error().code != Errc::not_found) {
            policy.revocations_error = lists.error().message;
        }
        settings.signatures = policy;
    }
    self_update::launch(settings, argv);
}

int usage_error(std::string message) {
    // A value quoted in the error comes from the environment or a file: a line break or an
    // escape sequence in it must not split the line or drive the terminal.
    for (char& c : message) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f) c = '?';
    }
    std::fprintf(stderr, "lucid-agent: %s\n(see lucid-agent --help)\n", message.c_str());
    return 2;
}

// install-service, uninstall-service, stage-env-file: files only, no config.
int service_command(const config::CommandLine& cli) {
    try {
        if (cli.subcommand == "stage-env-file") {
            service::stage_env_file(cli.arguments.at(0), cli.arguments.at(1));
            return 0;
        }
        service::InstallServiceOptions options;
        options.unit.agent_binary = std::filesystem::canonical("/proc/self/exe").string();
        if (auto it = cli.flags.find("--env-file"); it != cli.flags.end()) {
            // The unit names it for systemd, which resolves nothing against our directory.
            if (!std::filesystem::path(it->second).is_absolute()) {
                std::fprintf(stderr,
                             "lucid-agent: %s: --env-file %s must be an absolute path (the unit "
                             "names it for systemd)\n",
                             cli.subcommand.c_str(), it->second.c_str());
                return 2;
            }
            options.unit.env_file = it->second;
        }
        if (auto it = cli.flags.find("--root"); it != cli.flags.end()) options.root = it->second;
        if (const char* unit_dir = std::getenv("LUCID_SYSTEMD_UNIT_DIR")) {
            options.unit_dir = unit_dir;
        }
        options.device_access = cli.device_access;
        if (cli.subcommand == "uninstall-service") {
            std::fputs(service::uninstall_service(options).c_str(), stdout);
            return 0;
        }
        const auto warning = service::agent_binary_warning(options.unit.agent_binary);
        if (!warning.empty()) std::fprintf(stderr, "lucid-agent: warning: %s\n", warning.c_str());
        std::fputs(service::install_service(options).c_str(), stdout);
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "lucid-agent: %s failed: %s\n", cli.subcommand.c_str(), e.what());
        return 1;
    }
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
        std::printf("lucid-agent %s\n", self_update::build_version());
        return 0;
    }

    // Before the config is resolved: they write the env file that the config will be read from.
    if (cli.subcommand == "install-service" || cli.subcommand == "uninstall-service" ||
        cli.subcommand == "stage-env-file") {
        return service_command(cli);
    }

    auto resolved = config::load_config(cli);
    if (!resolved.config) {
        // A misspelt key's warning may be why the config is wrong: say it with the error.
        for (const auto& w : resolved.warnings) {
            std::fprintf(stderr, "lucid-agent: warning: %s\n", w.c_str());
        }
        return usage_error(resolved.error);
    }
    resolved.config->version = self_update::build_version();
    if (cli.subcommand == "floor") {
        // Only the data directory is needed; the resolved config says where it is.
        const auto to = cli.flags.find("--to");
        return service::floor_command(
            cli.arguments,
            to == cli.flags.end() ? std::nullopt : std::optional<std::string>(to->second),
            resolved.config->data_dir, stdout, stderr);
    }
    const bool checking = cli.subcommand == "check-config";
    for (const auto& w : resolved.warnings) {
        if (checking) {
            std::fprintf(stderr, "lucid-agent: warning: %s\n", w.c_str());
        } else {
            logger("config")->warn("{}", w);
        }
    }
    // Files the config names are checked now, with the file and the reason: a missing CA or an
    // empty key directory must stop the start, not surface later as a vague TLS error or as
    // signature checking silently off.
    std::string problem;
    if (resolved.config->endpoint.tls) {
        const Status tls = config::tls_files_problem(resolved.config->tls);
        if (!tls) problem = tls.error().message;
    }
    auto keys = std::make_shared<const install::TrustedKeySet>(
        install::load_trusted_keys(resolved.config->trusted_keys_dir));
    if (problem.empty() && keys->configured() && !keys->usable()) {
        problem = install::no_usable_key_error(*keys);
    }

    if (checking) {
        std::fputs(config::describe_config(*resolved.config).c_str(), stdout);
        // The labels in force may not be LUCID_LABELS: a cfg/set stored its own (contract §3.9).
        const agent::CoreConfigStore stored(resolved.config->data_dir);
        std::error_code ec;
        if (std::filesystem::exists(stored.path(), ec)) {
            if (const auto labels = stored.load().labels) {
                std::printf(
                    "labels in force: %s (set by cfg/set, stored in %s; they win over "
                    "LUCID_LABELS)\n",
                    labels->empty() ? "(none)" : contract::labels_text(*labels).c_str(),
                    stored.path().c_str());
            }
        }
        if (keys->configured()) {
            std::printf("trusted keys in %s:\n%s", keys->dir.c_str(),
                        install::describe_trusted_keys(*keys).c_str());
            // The keys revoked by signed lists (contract §8.14), kept in the trust state.
            const install::TrustState trust(resolved.config->data_dir);
            if (trust.exists()) {
                if (auto lists = trust.revocations()) {
                    for (const auto& [id, why] : install::revoked_keys(lists.value())) {
                        std::printf("  revoked %s (%s)\n", id.c_str(), why.c_str());
                    }
                } else {
                    std::printf("  revoked keys unknown: %s\n", lists.error().message.c_str());
                }
            }
        }
        if (!problem.empty()) return usage_error("configuration error: " + problem);
        return 0;
    }
    if (!problem.empty()) return usage_error("configuration error: " + problem);
    // Before anything of this process runs: the build to run may be another.
    if (cli.subcommand == "run") launch_newest_build(*resolved.config, keys, argv);
    for (const auto& k : keys->keys) {
        logger("config")->info("trusted key {} ({})", k.file, k.key_id);
    }
    for (const auto& s : keys->skipped) logger("config")->warn("trusted key skipped: {}", s);

    try {
        agent::ShutdownSignal shutdown;  // first: threads started later inherit the signal mask
        agent::Agent agent(*resolved.config, shutdown);
        // Before any plugin runs: a plugin that takes the agent down is named at the next start.
        crash::install_fatal_signal_handler(crash::record_path(agent.config().data_dir));
        agent::ComponentHost components(agent, keys);
        service::ConfigReloader reloader(cli, std::move(*resolved.config), keys,
                                         components.install_policy());
        shutdown.on_reload([&reloader] { reloader.reload(); });
        agent.on_stop_requested([] { service::notify("STOPPING=1"); });
        agent.on_stop_requested([&components] { components.cancel_downloads(); });
        // Plugins stop while the session is still up, so their last messages leave the device.
        agent.on_shutdown([&components] { components.stop(); });
        // A pending build of the agent commits once online, after its components started.
        agent::SelfUpgrade self_upgrade(agent, [&shutdown](int code) { shutdown.request(code); });
        agent.on_online([&self_upgrade] { self_upgrade.online(); });
        agent::UpgradeCommandSettings upgrade;
        upgrade.supervised =
            config::is_supervised(agent.config().supervision, config::getenv_string);
        upgrade.runner = agent.config().plugin_runner;
        upgrade.install = [&components] { return components.current_settings().install; };
        upgrade.verifier = [&components] { return components.current_settings().verifier; };
        upgrade.exit = [&shutdown](int code) { shutdown.request(code); };
        agent::DesiredAgentTarget desired_agent(agent, self_upgrade, upgrade);
        components.update_self_with(desired_agent);
        agent::add_upgrade_command(agent, std::move(upgrade));
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
