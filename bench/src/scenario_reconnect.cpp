// 7. Reconnect: the broker is stopped and started again at once (it accepts again well within
// the agent's minimum backoff); measured from the moment the broker was gone to the agent's
// snapshots republished, minus the configured minimum backoff (the agent runs with min = max =
// 200 ms, so its first attempt is exactly 200 ms after the loss). The baseline is a raw
// libmosquitto client reconnecting after the same fixed delay and republishing five retained
// messages, measured in the same broker restart.
#include <set>
#include <stdexcept>
#include <thread>

#include "scenarios.hpp"
#include "stats.hpp"

namespace lucid::bench {
namespace {

constexpr int kBackoffMs = 200;
const std::vector<std::string> kSnapshots = {"status", "core/metadata", "core/state",
                                             "core/components", "core/cfg/state"};

// Waits until every topic of `topics` has arrived; returns the time the last one did.
std::optional<Clock::time_point> all_arrived(MqttClient& d, std::set<std::string> topics,
                                             const std::function<bool(const Message&)>& fresh) {
    Clock::time_point last{};
    const auto deadline = Clock::now() + std::chrono::seconds(20);
    while (!topics.empty() && Clock::now() < deadline) {
        auto m = d.take([&](const Message& r) { return topics.count(r.topic) > 0 && fresh(r); },
                        std::chrono::milliseconds(500));
        if (!m) continue;
        topics.erase(m->topic);
        last = std::max(last, m->received);
    }
    if (!topics.empty()) return std::nullopt;
    return last;
}

}  // namespace

void run_reconnect(BenchEnv& env) {
    const fs::path dir = env.dir("reconnect");
    Broker broker(Broker::Bench{dir / "broker"});
    broker.start();
    const std::string id = "bench-reconnect";
    AgentSpec spec{id,
                   dir / "data",
                   dir / "plugins",
                   {{"LUCID_RECONNECT_MIN_MS", std::to_string(kBackoffMs)},
                    {"LUCID_RECONNECT_MAX_MS", std::to_string(kBackoffMs)}}};
    fs::create_directories(spec.plugin_dir);
    Process agent = start_agent(env, broker, spec);
    Process raw =
        start_raw(env, "reconnect", broker.port(), std::to_string(kBackoffMs), dir / "raw.log");

    std::set<std::string> agent_topics, raw_topics;
    for (const auto& s : kSnapshots) agent_topics.insert(agent_topic(id, s));
    for (int i = 0; i < 5; ++i) raw_topics.insert("bench/raw/rc/" + std::to_string(i));
    auto subscribe_all = [&](MqttClient& d) {
        d.subscribe(agent_topic(id, "status"));
        d.subscribe(agent_topic(id, "core/#"));
        d.subscribe("bench/raw/rc/#");
    };
    std::uint64_t session = 0;
    {
        MqttClient d(broker.port(), "bench-reconnect-driver");
        subscribe_all(d);
        auto online = wait_online(d, id, 0, std::chrono::seconds(20));
        if (!online) throw std::runtime_error("reconnect agent not online");
        session = uint_field(online->payload, "session");
        if (!all_arrived(d, raw_topics, [](const Message&) { return true; })) {
            throw std::runtime_error("raw reconnect client not connected");
        }
    }

    std::vector<double> agent_s, raw_s, accept_s;
    const int reps = std::max(3, env.samples(7));
    for (int rep = 0; rep < reps; ++rep) {
        std::this_thread::sleep_for(std::chrono::milliseconds(300));  // both settled
        broker.stop();
        const auto down = Clock::now();
        broker.start();  // returns once it accepts connections
        const auto accepting = Clock::now();
        MqttClient d(broker.port(), "bench-reconnect-driver");
        subscribe_all(d);
        const std::uint64_t before = session;
        auto agent_done = all_arrived(d, agent_topics, [&](const Message& r) {
            if (r.topic != agent_topic(id, "status")) return true;
            const auto s = uint_field(r.payload, "session");
            if (s > session) session = s;
            return string_field(r.payload, "state") == "online" && s > before;
        });
        auto raw_done = all_arrived(d, raw_topics, [](const Message&) { return true; });
        if (!agent_done || !raw_done) throw std::runtime_error("snapshots not republished");
        const double backoff = kBackoffMs / 1000.0;
        agent_s.push_back(seconds_between(down, *agent_done) - backoff);
        raw_s.push_back(seconds_between(down, *raw_done) - backoff);
        accept_s.push_back(seconds_between(down, accepting));
    }
    const double a = median(agent_s), r = median(raw_s);
    env.report.add({"7 reconnect", "broker back -> 5 snapshots republished, beyond backoff",
                    format_duration(a), format_duration(r), format_ratio(a, r),
                    "raw libmosquitto client, same fixed 200 ms delay, same restarts; the broker "
                    "accepted again " +
                        format_duration(median(accept_s)) + " after it was gone; median of " +
                        std::to_string(reps)});
    agent.stop(SIGTERM);
    raw.stop(SIGTERM);
    broker.stop();
}

}  // namespace lucid::bench
