// 11. Telemetry (issue 19): what streaming every device metric once a second costs the agent in
// CPU and memory, against the same agent with telemetry off, both idle and measured over the
// same window of the same run.
#include <dirent.h>

#include <cstdio>
#include <fstream>
#include <stdexcept>
#include <thread>

#include "scenarios.hpp"
#include "stats.hpp"

namespace lucid::bench {
namespace {

// Every metric of contract §4.14 at its shortest interval.
constexpr const char* kEveryMetricEachSecond =
    R"({"request_id":"REQ","set":{"telemetry_enabled":true,"telemetry":{"metrics":{)"
    R"("cpu_percent":{"enabled":true,"interval_s":1},)"
    R"("memory_percent":{"enabled":true,"interval_s":1},)"
    R"("disk_percent":{"enabled":true,"interval_s":1},)"
    R"("load1":{"enabled":true,"interval_s":1},)"
    R"("temperature_c":{"enabled":true,"interval_s":1},)"
    R"("net_rx_bytes_per_s":{"enabled":true,"interval_s":1},)"
    R"("net_tx_bytes_per_s":{"enabled":true,"interval_s":1},)"
    R"("agent_rss_bytes":{"enabled":true,"interval_s":1}}}}})";

// CPU time of every thread of `pid` in nanoseconds (/proc/<pid>/task/*/schedstat, first field):
// finer than the 10 ms ticks of /proc/<pid>/stat, which an idle agent barely moves.
std::optional<std::uint64_t> cpu_ns(pid_t pid) {
    const std::string tasks = "/proc/" + std::to_string(pid) + "/task";
    DIR* dir = opendir(tasks.c_str());
    if (dir == nullptr) return std::nullopt;
    std::uint64_t total = 0;
    while (const dirent* entry = readdir(dir)) {
        if (entry->d_name[0] == '.') continue;
        std::ifstream in(tasks + "/" + entry->d_name + "/schedstat");
        std::uint64_t ns = 0;
        if (in >> ns) total += ns;  // a thread that ended meanwhile is simply not counted
    }
    closedir(dir);
    return total;
}

std::string format_ms_per_min(double ns, double window_s) {
    char text[32];
    std::snprintf(text, sizeof text, "%.1f ms/min", ns / 1e6 * 60.0 / window_s);
    return text;
}

}  // namespace

void run_telemetry(BenchEnv& env, Broker& broker) {
    const fs::path dir = env.dir("telemetry");
    MqttClient d(broker.port(), "bench-telemetry-driver");
    const std::string off = "bench-telemetry-off", on = "bench-telemetry-on";
    d.subscribe(agent_topic(off, "status"));
    d.subscribe(agent_topic(on, "status"));
    d.subscribe(agent_topic(on, "core/evt/cfg_set_result"));
    d.subscribe(agent_topic(on, "telemetry/#"));

    AgentSpec off_spec{off, dir / "off", {}, {}};
    AgentSpec on_spec{on, dir / "on", {}, {}};
    Process a_off = start_agent(env, broker, off_spec);
    Process a_on = start_agent(env, broker, on_spec);
    if (!wait_online(d, off, 0, std::chrono::seconds(20)) ||
        !wait_online(d, on, 0, std::chrono::seconds(20))) {
        throw std::runtime_error("telemetry agents not online");
    }
    std::string payload = kEveryMetricEachSecond;
    const std::string id = next_request_id("telemetry");
    payload.replace(payload.find("REQ"), 3, id);
    const auto set = run_command(d, on, "core/cfg/set", "core/evt/cfg_set_result", payload, id);
    if (!set.answered || set.payload.find(R"("ok":true)") == std::string::npos) {
        throw std::runtime_error("cfg/set of the metrics failed: " + set.payload);
    }
    // The rates publish one second after they are enabled: start measuring once they flow.
    if (!d.take(
            [](const Message& m) { return m.topic.find("/telemetry/net_rx") != std::string::npos; },
            std::chrono::seconds(10))) {
        throw std::runtime_error("no telemetry/net_rx_bytes_per_s within 10 s");
    }
    d.clear();

    const auto window = std::chrono::seconds(env.quick ? 6 : 30);
    const auto off0 = cpu_ns(a_off.pid()), on0 = cpu_ns(a_on.pid());
    const auto start = Clock::now();
    int messages = 0;
    while (Clock::now() - start < window) {
        if (d.take(
                [](const Message& m) { return m.topic.find("/telemetry/") != std::string::npos; },
                std::chrono::milliseconds(200))) {
            ++messages;
        }
    }
    const double window_s = seconds_between(start, Clock::now());
    const auto off1 = cpu_ns(a_off.pid()), on1 = cpu_ns(a_on.pid());
    if (!off0 || !on0 || !off1 || !on1) throw std::runtime_error("cannot read schedstat");
    const double off_ns = static_cast<double>(*off1 - *off0);
    const double on_ns = static_cast<double>(*on1 - *on0);

    const auto rss_off = rss_kib(a_off.pid()), rss_on = rss_kib(a_on.pid());
    const auto pss_off = proc_kib(a_off.pid(), "smaps_rollup", "Pss:");
    const auto pss_on = proc_kib(a_on.pid(), "smaps_rollup", "Pss:");
    if (!rss_off || !rss_on || !pss_off || !pss_on) throw std::runtime_error("cannot read memory");

    const std::string note = std::to_string(messages) + " metric messages in " +
                             format_duration(window_s) +
                             "; baseline: the same idle agent, telemetry off, same window";
    env.report.add({"11 telemetry", "agent CPU, every metric at 1 s",
                    format_ms_per_min(on_ns, window_s), format_ms_per_min(off_ns, window_s),
                    format_ratio(on_ns, off_ns), note});
    env.report.add({"11 telemetry", "agent RSS, every metric at 1 s", format_kib(*rss_on),
                    format_kib(*rss_off), format_ratio(*rss_on, *rss_off), "VmRSS at the end"});
    env.report.add({"11 telemetry", "agent PSS, every metric at 1 s", format_kib(*pss_on),
                    format_kib(*pss_off), format_ratio(*pss_on, *pss_off), "smaps_rollup Pss"});
    a_off.stop(SIGTERM);
    a_on.stop(SIGTERM);
}

}  // namespace lucid::bench
