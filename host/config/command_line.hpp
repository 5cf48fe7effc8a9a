// The command line of lucid-agent:
//
//   lucid-agent [run|check-config] [--flag value | --flag=value]...
//   lucid-agent install-service [--root DIR] [--device-access] [--env-file PATH]
//   lucid-agent uninstall-service [--root DIR]
//   lucid-agent stage-env-file SRC DST      (the unit's privileged ExecStartPre=/ExecReload=)
//   lucid-agent floor list | floor reset DIST [--to VERSION]   (the version floors, on site)
//   lucid-agent --version | --help
//
// `run` is the default subcommand. Every setting flag is listed by setting_flags(); the values
// are only collected here and validated by the resolver. Pure; thread-safe.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace lucid::host::config {

struct CommandLine {
    std::string subcommand = "run";            // run | check-config | install-service | ...
    std::map<std::string, std::string> flags;  // "--mqtt-url" → value
    std::vector<std::string> arguments;        // stage-env-file SRC DST; floor reset DIST
    bool device_access = false;                // install-service --device-access
    bool show_version = false;
    bool show_help = false;
    std::string error;  // usage error; everything else is then unspecified
    // How a flag is spelled in error messages when the program calls it otherwise (lucidctl
    // takes --agent for --agent-id): "--agent-id" → "--agent".
    std::map<std::string, std::string> flag_names;
};

CommandLine parse_command_line(const std::vector<std::string>& args);  // without argv[0]

// The flags that take a value (settings, --env-file, --root).
const std::vector<std::string>& value_flags();

std::string usage_text();

}  // namespace lucid::host::config
