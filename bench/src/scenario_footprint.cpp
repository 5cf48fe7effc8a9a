// 4. Footprint: idle RSS of the agent with no plugins and with the example plugins (cpu, echo),
// against an idle raw libmosquitto client.
#include <set>
#include <stdexcept>
#include <thread>

#include "scenarios.hpp"
#include "stats.hpp"

namespace lucid::bench {
namespace {

constexpr auto kSettle = std::chrono::seconds(2);

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
    const auto r0 = rss_kib(a0.pid()), r2 = rss_kib(a2.pid()), rr = rss_kib(raw.pid());
    if (!r0 || !r2 || !rr) throw std::runtime_error("cannot read VmRSS");
    const double raw_kib = static_cast<double>(*rr);
    env.raw_idle_kib = raw_kib;
    env.report.add({"4 footprint", "idle RSS, no plugins", format_kib(*r0), format_kib(raw_kib),
                    format_ratio(*r0, raw_kib),
                    "idle raw libmosquitto client (VmRSS after " + std::to_string(kSettle.count()) +
                        " s idle)"});
    env.report.add({"4 footprint", "idle RSS, cpu + echo plugins", format_kib(*r2),
                    format_kib(raw_kib), format_ratio(*r2, raw_kib), ""});
    a0.stop(SIGTERM);
    a2.stop(SIGTERM);
    raw.stop(SIGTERM);
    probe.stop(SIGTERM);
}

}  // namespace lucid::bench
