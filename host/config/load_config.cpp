#include "config/load_config.hpp"

#include <filesystem>

#include "agent/host_facts.hpp"
#include "config/env_file.hpp"
#include "lucid/registry/atomic_file.hpp"

namespace lucid::host::config {

ResolveResult load_config(const CommandLine& cli) {
    const EnvLookup env = agent::getenv_string;
    const auto choice = choose_env_file(cli, env);
    std::map<std::string, std::string> file_values;
    std::string env_file_used;
    std::error_code ec;
    ResolveResult failed;
    if (std::filesystem::exists(choice.path, ec)) {
        std::string text;
        try {
            text = registry::read_file(choice.path);
        } catch (const std::exception& e) {
            failed.error = "cannot read env file " + choice.path + ": " + e.what();
            return failed;
        }
        auto parsed = parse_env_file(text);
        if (!parsed.error.empty()) {
            failed.error = "env file " + choice.path + ": " + parsed.error;
            return failed;
        }
        file_values = std::move(parsed.values);
        env_file_used = choice.path;
    } else if (choice.required) {
        failed.error = "env file " + choice.path + " does not exist";
        return failed;
    }
    const HostFacts facts{agent::host_name(), agent::running_as_root()};
    auto resolved = resolve_config(cli, env, file_values, env_file_used, facts);
    if (!resolved.config) resolved.error = "configuration error: " + resolved.error;
    return resolved;
}

}  // namespace lucid::host::config
