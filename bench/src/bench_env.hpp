// What every scenario shares: where the programs and plugins are, the scratch directory, the
// report, figures one scenario measures and a later one uses as its baseline, and the helpers
// that start agents and send commands.
// Thread: the bench's main thread. Errors: helpers throw std::runtime_error on a broken setup
// (a program that does not start); a slow or missing answer is returned, not thrown.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "broker.hpp"
#include "mqtt_client.hpp"
#include "process.hpp"
#include "report.hpp"

namespace lucid::bench {

// The test kit (tests/support/: client, broker, processes, artifacts), shared with the
// integration tests.
using namespace lucid::test;
namespace fs = std::filesystem;
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

struct Paths {
    fs::path raw_client;  // lucid-bench-raw, the baseline clients
    fs::path agent;
    fs::path lucidctl;
    fs::path cpu_plugin;
    fs::path echo_plugin;
    fs::path bench_plugins;  // directory of the bench's own plugins
    std::string platform_tag;

    // <dir>/<dist with _>-<version>-<tag>.so, as lucid_add_plugin names it.
    fs::path bench_plugin(const std::string& file_dist, const std::string& version) const;
};

struct BenchEnv {
    Paths paths;
    fs::path root;  // scratch directory of this run
    bool quick = false;
    Report report;

    // Figures reused as baselines by later scenarios (0 = not measured).
    double refresh_p50_s = 0;
    double start_online_0_s = 0;
    double raw_idle_kib = 0;

    fs::path dir(const std::string& name) const;  // root/name, created
    // How many samples to take: `full`, or about a fifth of it with --quick.
    int samples(int full) const { return quick ? (full + 4) / 5 : full; }
};

struct AgentSpec {
    std::string id;
    fs::path data_dir;
    fs::path plugin_dir;  // empty: {data}/plugins.d
    Env extra;            // overrides
};

// Starts lucid-agent as a process against `broker` (log: data_dir/../<id>.log).
Process start_agent(const BenchEnv& env, const Broker& broker, const AgentSpec& spec);
// Starts `lucid-bench-raw <role> <port> [arg]` (raw_client.hpp).
Process start_raw(const BenchEnv& env, const std::string& role, int port, const std::string& arg,
                  const fs::path& log);

std::string agent_topic(const std::string& agent_id, const std::string& suffix);

// The next retained/live `status` of the agent that is online with a session > after_session
// (the driver must be subscribed to agent_topic(id, "status")).
std::optional<Message> wait_online(MqttClient& driver, const std::string& agent_id,
                                   std::uint64_t after_session, milliseconds timeout);

struct CommandOutcome {
    bool answered = false;
    double seconds = 0;  // publish to result received
    std::string payload;
};
// Publishes `payload` on the agent's command topic and waits for the result carrying
// request_id (the driver must be subscribed to the result topic).
CommandOutcome run_command(MqttClient& driver, const std::string& agent_id,
                           const std::string& command_suffix, const std::string& result_suffix,
                           const std::string& payload, const std::string& request_id,
                           milliseconds timeout = std::chrono::seconds(30));

// A request_id unique in this run: "<prefix>-<n>".
std::string next_request_id(const std::string& prefix);

// A "Key:  N kB" line of /proc/<pid>/<file> in KiB ("status" and "VmRSS:", "smaps_rollup" and
// "Pss:"), nullopt when unreadable.
std::optional<long> proc_kib(pid_t pid, const std::string& file, const std::string& key);
// VmRSS of a live process in KiB (from /proc/<pid>/status), nullopt when unreadable.
std::optional<long> rss_kib(pid_t pid);

}  // namespace lucid::bench
