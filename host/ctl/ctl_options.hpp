// The command line of lucidctl (SPEC §9):
//
//   lucidctl [--url URL] [--agent ID] [--root ROOT] [--json] [--timeout SECONDS] <command> [args]
//
// Global options may appear anywhere before or after the command words; `--help` anywhere shows
// the help of the command given (or the overview). Pure; thread-safe.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace lucid::host::ctl {

enum ExitCode { kOk = 0, kCommandFailed = 1, kUsage = 2, kUnreachable = 3 };

struct CtlOptions {
    std::optional<std::string> url;
    std::optional<std::string> agent;
    std::optional<std::string> root;
    std::optional<std::string> data_dir;  // for the offline `plugin list`
    bool json = false;
    bool help = false;
    std::chrono::milliseconds timeout{10000};
    std::vector<std::string> words;  // the command and its arguments, options removed
    // Command options (`--sha256`, `--id`, `--dist`, `--count`), by name without dashes.
    std::vector<std::pair<std::string, std::string>> command_options;
    std::string error;  // usage error
};

CtlOptions parse_ctl_options(const std::vector<std::string>& args);  // without argv[0]

// The value of a command option, if given.
std::optional<std::string> command_option(const CtlOptions& options, const std::string& name);

// Help for `words` (e.g. {"plugin", "install"}), or the overview when nothing matches.
std::string ctl_help(const std::vector<std::string>& words);

}  // namespace lucid::host::ctl
