// 4. Footprint: idle RSS, PSS and anonymous memory of the agent with no plugins and with the
// example plugins (cpu, echo), against an idle raw libmosquitto client, all from
// /proc/<pid>/smaps_rollup at the same moment. RSS counts every page of the shared libraries a
// process maps; PSS divides each by the processes mapping it; the anonymous pages are the
// process's own (heap, stacks, written data), what a device pays for it alone.
#include <set>
#include <stdexcept>
#include <thread>

#include "scenarios.hpp"
#include "stats.hpp"

namespace lucid::bench {
namespace {

constexpr auto kSettle = std::chrono::seconds(2);

struct IdleMemory {
    long rss = 0, pss = 0, anon = 0;  // KiB
};

IdleMemory idle_memory(pid_t pid) {
    const auto rss = proc_kib(pid, "smaps_rollup", "Rss:");
    const auto pss = proc_kib(pid, "smaps_rollup", "Pss:");
    const auto anon = proc_kib(pid, "smaps_rollup", "Anonymous:");
    if (!rss || !pss || !anon) throw std::runtime_error("cannot read smaps_rollup");
    return {*rss, *pss, *anon};
}

}  // namespace

void run_footprint(BenchEnv& env, Broker& broker) {
    const fs::path dir = env.dir("footprint");
    MqttClient d(broker.port(), "bench-footprint-driver");
    const std::string bare = "bench-idle-bare", examples = "bench-idle-examples";
    d.subscribe(agent_topic(bare, "status"));
    d.subscribe(agent_topic(examples, "status"));
    d.subscribe(agent_topic(examples, "components/+/status"));
    d.subscribe("bench/raw/idle-ready/status");

    AgentSpec bare_spec{bare, dir / "bare", dir / "bare-plugins", {}};
    AgentSpec ex_spec{examples, dir / "examples", dir / "examples-plugins", {}};
    fs::create_directories(bare_spec.plugin_dir);
    fs::create_directories(ex_spec.plugin_dir);
    for (const auto& p : {env.paths.cpu_plugin, env.paths.echo_plugin}) {
        fs::copy_file(p, ex_spec.plugin_dir / p.filename());
    }
    Process a0 = start_agent(env, broker, bare_spec);
    Process a2 = start_agent(env, broker, ex_spec);
    Process raw = start_raw(env, "idle", broker.port(), "", dir / "idle.log");
    // A second raw client that tells us when it is connected; the idle one is measured.
    Process probe = start_raw(env, "online", broker.port(), "idle-ready", dir / "probe.log");

    if (!wait_online(d, bare, 0, std::chrono::seconds(20)) ||
        !wait_online(d, examples, 0, std::chrono::seconds(20))) {
        throw std::runtime_error("footprint agents not online");
    }
    std::set<std::string> running;
    const auto deadline = Clock::now() + std::chrono::seconds(20);
    while (running.size() < 2 && Clock::now() < deadline) {
        auto m = d.take(
            [&](const Message& r) {
                return r.topic.find("/components/") != std::string::npos &&
                       string_field(r.payload, "state") == "running";
            },
            std::chrono::seconds(1));
        if (m) running.insert(m->topic);
    }
    if (running.size() < 2) throw std::runtime_error("cpu and echo did not both start");
    if (!d.take([](const Message& r) { return r.topic == "bench/raw/idle-ready/status"; },
                std::chrono::seconds(10))) {
        throw std::runtime_error("raw client not connected");
    }
    // Idle means after start-up work is done (the cpu plugin's first sample, the snapshots).
    std::this_thread::sleep_for(kSettle);
    const IdleMemory m0 = idle_memory(a0.pid()), m2 = idle_memory(a2.pid()),
                     mr = idle_memory(raw.pid());
    const double raw_kib = static_cast<double>(mr.rss);
    env.raw_idle_kib = raw_kib;
    const std::string idle = "idle raw libmosquitto client (smaps_rollup after " +
                             std::to_string(kSettle.count()) + " s idle)";
    auto add = [&](const std::string& measure, long agent, long raw_value,
                   const std::string& note) {
        env.report.add({"4 footprint", measure, format_kib(static_cast<double>(agent)),
                        format_kib(static_cast<double>(raw_value)),
                        format_ratio(static_cast<double>(agent), static_cast<double>(raw_value)),
                        note});
    };
    add("idle RSS, no plugins", m0.rss, mr.rss, idle + ": Rss");
    add("idle PSS, no plugins", m0.pss, mr.pss, "Pss: shared pages divided among their mappers");
    add("idle RssAnon, no plugins", m0.anon, mr.anon, "Anonymous: the process's own pages");
    add("idle RSS, cpu + echo plugins", m2.rss, mr.rss, "");
    add("idle PSS, cpu + echo plugins", m2.pss, mr.pss, "");
    add("idle RssAnon, cpu + echo plugins", m2.anon, mr.anon, "");
    a0.stop(SIGTERM);
    a2.stop(SIGTERM);
    raw.stop(SIGTERM);
    probe.stop(SIGTERM);
}

}  // namespace lucid::bench
