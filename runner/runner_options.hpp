// lucid-plugin-runner's command line, written by the agent (isolation/runner_process.cpp):
//
//   lucid-plugin-runner --fd 3 --parent PID [--component CID] [--memory-mb N] [--open-files N]
//                       [--cpu-seconds N] [--run-as USER --plugin FILE] [--group NAME]...
//                       [--dir DIR]
//                       [--read PATH]... [--write PATH]... [--no-seccomp]
//
// Thread: pure. Errors: the text of the first bad argument.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace lucid::runner {

struct RunnerOptions {
    int fd = 3;
    pid_t parent = 0;
    std::string component;
    std::optional<std::uint64_t> memory_mb, open_files, cpu_seconds;
    std::optional<std::string> run_as;
    std::vector<std::string> groups;
    std::string plugin;  // with run_as: the file copied while still root (plugin_image.hpp)
    std::string dir;
    std::vector<std::string> read_paths, write_paths;
    bool seccomp = true;
};

struct ParsedOptions {
    RunnerOptions options;
    std::string error;  // empty when parsed
};
ParsedOptions parse_runner_options(int argc, const char* const* argv);

}  // namespace lucid::runner
