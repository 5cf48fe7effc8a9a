// 1. Command round trip (ping, refresh, cfg/set) against a raw libmosquitto echo client (cfg/set
//    against the floor of a durable command: the echo plus one fdatasync of a small append in the
//    data directory's file system, issue 21), and
// 2. pipelined ping throughput against the echo client pipelined the same way.
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "floors.hpp"
#include "scenarios.hpp"
#include "stats.hpp"

namespace lucid::bench {
namespace {

constexpr auto kTimeout = std::chrono::seconds(30);

std::string request(const std::string& id) { return "{\"request_id\":\"" + id + "\"}"; }

double command_once(MqttClient& d, const std::string& agent, const std::string& name,
                    const std::string& payload_extra) {
    const std::string id = next_request_id(name);
    const std::string payload = "{\"request_id\":\"" + id + "\"" + payload_extra + "}";
    std::string cmd = "core/cmd/" + name, result = "core/evt/" + name + "_result";
    if (name == "cfg_set") {
        cmd = "core/cfg/set";
        result = "core/evt/cfg_set_result";
    }
    const auto outcome = run_command(d, agent, cmd, result, payload, id, kTimeout);
    if (!outcome.answered) throw std::runtime_error(name + " timed out");
    if (!true_field(outcome.payload, "ok")) {
        throw std::runtime_error(name + " failed: " + outcome.payload);
    }
    return outcome.seconds;
}

void add_percentiles(BenchEnv& env, const std::string& name, const std::vector<double>& lucid,
                     const std::vector<double>& base, const std::string& base_is) {
    for (double p : {50.0, 90.0, 99.0}) {
        const double l = percentile(lucid, p), e = percentile(base, p);
        env.report.add({"1 command round trip", name + " p" + std::to_string(int(p)),
                        format_duration(l), format_duration(e), format_ratio(l, e),
                        p == 50 ? base_is + ", same broker, " + std::to_string(lucid.size()) +
                                      " sequential requests"
                                : ""});
    }
}

// Keeps `window` requests in flight; returns results per second (first publish to last result).
double pipelined(MqttClient& d, const std::string& command_topic, const std::string& result_topic,
                 const std::string& prefix, int count, int window, int* failed) {
    std::mutex m;
    std::condition_variable cv;
    int received = 0;
    int not_ok = 0;
    Clock::time_point last{};
    const bool check_ok = result_topic.rfind("lucid/", 0) == 0;
    d.set_tap([&](const Message& r) {
        if (r.topic != result_topic) return false;
        {
            std::lock_guard<std::mutex> lock(m);
            ++received;
            if (check_ok && r.payload.find("\"ok\":true") == std::string::npos) ++not_ok;
            last = r.received;
        }
        cv.notify_one();
        return true;
    });
    const auto start = Clock::now();
    for (int i = 0; i < count; ++i) {
        {
            std::unique_lock<std::mutex> lock(m);
            if (!cv.wait_for(lock, kTimeout, [&] { return i - received < window; })) break;
        }
        d.publish_nowait(command_topic, request(prefix + "-" + std::to_string(i)));
    }
    bool complete = false;
    {
        std::unique_lock<std::mutex> lock(m);
        complete = cv.wait_for(lock, kTimeout, [&] { return received >= count; });
    }
    d.set_tap(nullptr);
    if (!complete) throw std::runtime_error("pipelined run on " + command_topic + " incomplete");
    if (failed) *failed = not_ok;
    return count / seconds_between(start, last);
}

}  // namespace

void run_command_round_trip(BenchEnv& env, Broker& broker) {
    const std::string id = "bench-cmd";
    const fs::path dir = env.dir("cmd");
    AgentSpec spec{id, dir / "data", dir / "plugins", {}};
    fs::create_directories(spec.plugin_dir);
    Process agent = start_agent(env, broker, spec);
    Process echo = start_raw(env, "echo", broker.port(), "", dir / "echo.log");

    MqttClient d(broker.port(), "bench-cmd-driver");
    d.subscribe(agent_topic(id, "status"));
    d.subscribe(agent_topic(id, "core/evt/+"));
    d.subscribe("bench/echo/result");
    if (!wait_online(d, id, 0, std::chrono::seconds(20))) {
        throw std::runtime_error("agent not online: " + agent.log());
    }
    wait_echo_ready(d);

    // Warm-up: first requests pay for page faults, lazy allocations and TCP slow start.
    for (int i = 0; i < 50; ++i) {
        echo_once(d);
        command_once(d, id, "ping", "");
    }

    // Interleaved, so that a noisy neighbour on the machine hits both sides alike.
    std::vector<double> echo_s, ping_s, refresh_s, cfg_s, floor_s;
    const int n = env.samples(2000);
    for (int i = 0; i < n; ++i) {
        echo_s.push_back(echo_once(d));
        ping_s.push_back(command_once(d, id, "ping", ""));
    }
    for (int i = 0; i < env.samples(300); ++i) {
        refresh_s.push_back(command_once(d, id, "refresh", ""));
    }
    // What a durable command cannot go below: its answer's record made durable by one
    // fdatasync of a small append, in the file system of the agent's data directory.
    DurableFloor durable(dir / "floor");
    for (int i = 0; i < env.samples(200); ++i) {
        // Alternating values: every request really changes, saves and republishes the config.
        cfg_s.push_back(command_once(
            d, id, "cfg_set",
            i % 2 ? ",\"set\":{\"heartbeat_s\":30}" : ",\"set\":{\"heartbeat_s\":31}"));
        // Interleaved with cfg/set, as echo with ping: a paired echo and fdatasync per sample.
        floor_s.push_back(echo_once(d) + durable.append_synced(256));
    }
    const std::string echo_is = "raw libmosquitto echo client";
    add_percentiles(env, "ping", ping_s, echo_s, echo_is);
    add_percentiles(env, "refresh", refresh_s, echo_s, echo_is);
    add_percentiles(env, "cfg/set", cfg_s, floor_s,
                    "floor: raw echo round trip + fdatasync of a 256 B append beside the data "
                    "directory (p50 vs the echo alone: " +
                        format_ratio(percentile(cfg_s, 50), percentile(echo_s, 50)) + ")");
    env.refresh_p50_s = percentile(refresh_s, 50);

    // 2. Pipelined: 64 in flight (the agent's fast lane holds 256).
    const int count = env.samples(5000), window = 64;
    std::vector<double> agent_rates, echo_rates;
    int failed = 0;
    for (int rep = 0; rep < 3; ++rep) {
        echo_rates.push_back(pipelined(d, "bench/echo/cmd", "bench/echo/result",
                                       next_request_id("echo-pipe"), count, window, nullptr));
        int f = 0;
        agent_rates.push_back(pipelined(d, agent_topic(id, "core/cmd/ping"),
                                        agent_topic(id, "core/evt/ping_result"),
                                        next_request_id("ping-pipe"), count, window, &f));
        failed += f;
    }
    const double a = median(agent_rates), e = median(echo_rates);
    env.report.add({"2 command throughput", "pipelined ping", format_rate(a), format_rate(e),
                    format_ratio(a, e),
                    "echo client pipelined the same way: " + std::to_string(count) + " requests, " +
                        std::to_string(window) + " in flight, median of 3" +
                        (failed ? "; " + std::to_string(failed) + " results not ok" : "")});

    agent.stop(SIGTERM);
    echo.stop(SIGTERM);
}

}  // namespace lucid::bench
