// 3. Plugin dispatch throughput: messages per second from the broker into a plugin's
// subscription handler, against a raw libmosquitto subscriber.
//
// The subscriber (the agent, or the raw client) is stopped with SIGSTOP while the bench
// publishes the whole burst and the broker queues it; the clock starts at SIGCONT. So the
// figure is how fast the subscriber drains a full queue, not how fast the bench can publish.
#include <csignal>
#include <stdexcept>
#include <thread>

#include "dispatch_drain.hpp"
#include "scenarios.hpp"
#include "stats.hpp"

namespace lucid::bench {

void wait_subscribed(MqttClient& d, const std::string& in, const std::string& out) {
    for (int i = 0; i < 400; ++i) {
        d.publish_nowait(in, "ping", 0);
        if (d.take([&](const Message& m) { return m.topic == out; },
                   std::chrono::milliseconds(50))) {
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
            d.clear();  // later pongs of the probes
            return;
        }
    }
    throw std::runtime_error("no answer on " + out);
}

double drain_rate(MqttClient& d, Process& subscriber, const std::string& in, const std::string& out,
                  int count) {
    const std::string payload(32, 'm');
    subscriber.signal(SIGSTOP);
    for (int i = 0; i < count; ++i) d.publish_nowait(in, payload, 0);
    d.publish_nowait(in, "end", 0);
    // The broker has the whole burst once this is acknowledged.
    d.publish("bench/sync", "", 1, false, std::chrono::seconds(60));
    const auto start = Clock::now();
    subscriber.signal(SIGCONT);
    auto r = d.take([&](const Message& m) { return m.topic == out; }, std::chrono::seconds(120));
    if (!r) throw std::runtime_error("no count on " + out);
    const auto got = uint_field(r->payload, "count");
    if (got != static_cast<unsigned long long>(count)) {
        throw std::runtime_error(out + ": counted " + std::to_string(got) + " of " +
                                 std::to_string(count));
    }
    return count / seconds_between(start, r->received);
}

void run_plugin_dispatch(BenchEnv& env, Broker& broker) {
    const std::string id = "bench-dispatch";
    const fs::path dir = env.dir("dispatch");
    AgentSpec spec{id, dir / "data", dir / "plugins", {}};
    fs::create_directories(spec.plugin_dir);
    // Dropped in before the start: the agent installs it from its plugin directory.
    const fs::path counter = env.paths.bench_plugin("lucid_bench_counter", "1.0.0");
    fs::copy_file(counter, spec.plugin_dir / counter.filename());

    MqttClient d(broker.port(), "bench-dispatch-driver");
    d.subscribe("bench/plugin/count");
    d.subscribe("bench/raw/count");
    Process agent = start_agent(env, broker, spec);
    Process raw = start_raw(env, "sub", broker.port(), "", dir / "sub.log");
    wait_subscribed(d, "bench/plugin/in", "bench/plugin/count");
    wait_subscribed(d, "bench/raw/in", "bench/raw/count");

    const int count = env.samples(50000);
    std::vector<double> plugin_rates, raw_rates;
    for (int rep = 0; rep < 3; ++rep) {
        raw_rates.push_back(drain_rate(d, raw, "bench/raw/in", "bench/raw/count", count));
        plugin_rates.push_back(
            drain_rate(d, agent, "bench/plugin/in", "bench/plugin/count", count));
    }
    const double p = median(plugin_rates), r = median(raw_rates);
    env.report.add({"3 plugin dispatch", "broker -> plugin handler", format_rate(p), format_rate(r),
                    format_ratio(p, r),
                    "raw libmosquitto subscriber; " + std::to_string(count) +
                        " queued QoS 0 messages of 32 B drained, median of 3"});
    agent.stop(SIGTERM);
    raw.stop(SIGTERM);
}

}  // namespace lucid::bench
