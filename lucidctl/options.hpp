// The command line of lucidctl (contract §9):
//
//   lucidctl [--url URL] [--agent ID] [--root ROOT] [--json] [--timeout SECONDS] <command> [args]
//
// Global options may appear anywhere before or after the command words; `--help` anywhere shows
// the help of the command given (or the overview). The broker, TLS and env-file options are the
// agent's settings under lucidctl's names (`--url`, also spelled `--mqtt-url` as the agent's;
// `--tls-ca`, `--tls-cert`, `--tls-key`, `--env-file`), resolved by the agent's own config code.
// Pure; thread-safe.
#pragma once

#include <chrono>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

namespace lucid::host::ctl {

// 1: the agent answered ok:false (or a component is unknown); 2: usage, or a problem lucidctl
// sees itself before asking the agent (a bad file, manifest or checksum); 3: the broker or the
// agent cannot be reached, did not answer, or the agent is offline.
// 4: sent, but not done yet (an offline agent applies its desired state when it returns).
enum ExitCode { kOk = 0, kCommandFailed = 1, kUsage = 2, kUnreachable = 3, kPending = 4 };

struct CtlOptions {
    std::optional<std::string> url;
    std::string url_flag = "--url";  // as typed (--url or --mqtt-url), for error messages
    std::optional<std::string> agent;
    std::optional<std::string> root;
    std::optional<std::string> fleet_root;
    std::optional<std::string> data_dir;  // for the offline `plugin list` / `plugin info`
    std::optional<std::string> env_file;
    std::optional<std::string> tls_ca;
    std::optional<std::string> tls_cert;
    std::optional<std::string> tls_key;
    bool json = false;
    bool help = false;
    bool version = false;
    std::chrono::milliseconds timeout{10000};
    bool timeout_given = false;  // rollouts wait 600 s a batch unless --timeout says otherwise
    // Every command sent carries expires_at = now + this (contract §3.4), so that one queued for
    // an agent that is away does not run when it comes back weeks later; nullopt: never.
    std::optional<std::chrono::seconds> expires_in = std::chrono::hours(1);
    std::vector<std::string> words;  // the command and its arguments, options removed
    // Command options (`--sha256`, `--id`, `--dist`, `--count`, ...), by name without dashes;
    // switches (`--force`, `--prune`) have the value "true".
    std::vector<std::pair<std::string, std::string>> command_options;
    std::string error;  // usage error
};

CtlOptions parse_ctl_options(const std::vector<std::string>& args);  // without argv[0]

// The value of a command option, if given.
std::optional<std::string> command_option(const CtlOptions& options, const std::string& name);
bool command_switch(const CtlOptions& options, const std::string& name);

// Help for `words` (e.g. {"plugin", "install"}), or the overview when nothing matches.
std::string ctl_help(const std::vector<std::string>& words);

// A usage error as lucidctl prints it: the one error, then where to read more:
//   lucidctl: unknown command 'stauts' (did you mean 'status'?)
//   try 'lucidctl --help'
void print_usage_error(std::ostream& err, const std::string& error,
                       const std::vector<std::string>& words);

// {"ok":false,"error":"<error>"}: with --json, every failure lucidctl finds itself is one JSON
// object on stdout.
void print_json_error(std::ostream& out, const std::string& error);

// The words that may follow `path` ({} → the commands, {"plugin"} → its subcommands), for
// "did you mean" suggestions.
std::vector<std::string> known_words(const std::vector<std::string>& path);

// "unknown <what> 'word'", with " (did you mean 'x'?)" when a known word is near.
std::string unknown_word_error(const std::string& what, const std::string& word,
                               const std::vector<std::string>& known);

}  // namespace lucid::host::ctl
