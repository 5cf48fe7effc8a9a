// 8. Scale.
// (a) The agent with 1,000 registry entries: start to online, refresh round trip and the size of
//     the retained core/components snapshot. The entries are python_wheel-kind entries (the
//     earlier agent's, listed as `unsupported`, never loaded): this measures the registry and
//     snapshot machinery, not plugin loading (section 5 loads 50 real plugins). Baselines: the
//     same agent with an empty registry (sections 5 and 1) and the registry file's own size.
// (b) `lucidctl agents` against 200 agents started as processes on one broker, against a raw
//     libmosquitto client that reads the same retained statuses the same way (a marker).
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <rapidjson/document.h>

#include "scenarios.hpp"
#include "stats.hpp"

namespace lucid::bench {
namespace {

constexpr int kEntries = 1000;
constexpr int kFleet = 200;

std::string wheel_registry() {
    std::ostringstream out;
    out << "{\"format\":1,\"components\":{";
    for (int i = 0; i < kEntries; ++i) {
        char cid[32];
        std::snprintf(cid, sizeof cid, "wheel-%04d", i);
        out << (i ? "," : "") << "\"" << cid << "\":{\"component_id\":\"" << cid
            << "\",\"dist_name\":\"lucid-" << cid << "\",\"version\":\"1.0." << i % 10
            << "\",\"sha256\":\"" << std::string(64, 'a')
            << "\",\"path\":\"\",\"source\":{\"type\":\"github_release\",\"owner\":"
               "\"LucidLabPlatform\",\"repo\":\"lucid-"
            << cid << "\",\"tag\":\"v1.0.0\",\"asset\":\"lucid_" << cid
            << "-1.0.0-py3-none-any.whl\"},\"enabled\":true,\"config\":{\"interval_s\":5},"
               "\"installed_at\":\"2026-02-13T09:00:00Z\",\"previous\":null,\"kind\":"
               "\"python_wheel\"}";
    }
    out << "}}\n";
    return out.str();
}

// What a refresh of 1,000 entries republishes: status, metadata, state, components, cfg state
// and each entry's status and cfg/state.
constexpr int kMessages = 2 * kEntries + 5;

// The floor of a 1,000-entry refresh: the raw burst client publishes kMessages retained QoS 1
// messages (one of `big` bytes, the others of `small`) and says done once all are acked.
double refresh_floor(BenchEnv& env, Broker& broker, const fs::path& dir, std::size_t big,
                     std::size_t small) {
    Process raw = start_raw(env, "burst", broker.port(), "", dir / "burst.log");
    MqttClient d(broker.port(), "bench-burst-driver");
    d.subscribe("bench/raw/burst/done");
    auto burst = [&](int count, std::chrono::milliseconds timeout) -> std::optional<double> {
        const std::string rid = next_request_id("burst");
        const auto start = Clock::now();
        d.publish_nowait("bench/raw/burst/cmd", rid + " " + std::to_string(count) + " " +
                                                    std::to_string(small) + " " +
                                                    std::to_string(big));
        auto done = d.take([&](const Message& m) { return m.payload == rid; }, timeout);
        if (!done) return std::nullopt;
        return seconds_between(start, done->received);
    };
    bool ready = false;
    for (int i = 0; i < 200 && !ready; ++i)
        ready = burst(1, std::chrono::milliseconds(50)).has_value();
    if (!ready) throw std::runtime_error("the burst client never answered");
    std::vector<double> floor_s;
    for (int i = 0; i < env.samples(20); ++i) {
        auto s = burst(kMessages, std::chrono::seconds(30));
        if (!s) throw std::runtime_error("the burst client timed out");
        floor_s.push_back(*s);
    }
    raw.stop(SIGTERM);
    return median(floor_s);
}

void registry_scale(BenchEnv& env, Broker& broker) {
    const fs::path dir = env.dir("scale");
    const std::string id = "bench-scale";
    AgentSpec spec{id, dir / "data", dir / "plugins", {}};
    fs::create_directories(spec.data_dir);
    fs::create_directories(spec.plugin_dir);
    const std::string registry = wheel_registry();
    std::ofstream(spec.data_dir / "registry.json") << registry;

    MqttClient d(broker.port(), "bench-scale-driver");
    d.subscribe(agent_topic(id, "status"));
    d.subscribe(agent_topic(id, "core/evt/refresh_result"));

    // Starts: the first one is counted too (nothing is migrated: the file is format 1).
    std::vector<double> start_s;
    std::uint64_t session = 0;
    Process agent;
    const int reps = std::max(3, env.samples(5));
    for (int i = 0; i < reps; ++i) {
        if (agent.running()) agent.stop(SIGTERM);
        const auto start = Clock::now();
        agent = start_agent(env, broker, spec);
        auto online = wait_online(d, id, session, std::chrono::seconds(60));
        if (!online) throw std::runtime_error("scale agent not online");
        session = uint_field(online->payload, "session");
        start_s.push_back(seconds_between(start, online->received));
    }
    d.subscribe(agent_topic(id, "core/components"));
    auto snapshot =
        d.take([&](const Message& m) { return m.topic == agent_topic(id, "core/components"); },
               std::chrono::seconds(20));
    if (!snapshot) throw std::runtime_error("no core/components snapshot");
    const auto count = uint_field(snapshot->payload, "count");

    std::vector<double> refresh_s;
    for (int i = 0; i < env.samples(20); ++i) {
        const std::string rid = next_request_id("scale-refresh");
        const auto r = run_command(d, id, "core/cmd/refresh", "core/evt/refresh_result",
                                   "{\"request_id\":\"" + rid + "\"}", rid);
        if (!r.answered) throw std::runtime_error("refresh timed out");
        refresh_s.push_back(r.seconds);
    }
    // The sizes of one component's two snapshots, for the floor's messages.
    d.subscribe(agent_topic(id, "components/wheel-0000/#"));
    std::size_t per_component = 0;
    for (int i = 0; i < 2; ++i) {
        auto one = d.take(
            [&](const Message& m) {
                return m.topic.find("/components/wheel-0000/") != std::string::npos;
            },
            std::chrono::seconds(20));
        if (!one) throw std::runtime_error("no snapshot of wheel-0000");
        per_component += one->payload.size();
    }
    agent.stop(SIGTERM);
    const double floor_s =
        refresh_floor(env, broker, dir, snapshot->payload.size(), per_component / 2);

    const double s = median(start_s), r = median(refresh_s);
    const std::string entries = std::to_string(kEntries) + " entries";
    env.report.add({"8 scale", "start to online, " + entries, format_duration(s),
                    format_duration(env.start_online_0_s), format_ratio(s, env.start_online_0_s),
                    "the agent with an empty registry (section 5); python_wheel entries, " +
                        std::to_string(count) + " listed in core/components; median of " +
                        std::to_string(reps)});
    env.report.add({"8 scale", "refresh round trip, " + entries, format_duration(r),
                    format_duration(floor_s), format_ratio(r, floor_s),
                    "floor: a raw client publishing the same " + std::to_string(kMessages) +
                        " retained QoS 1 messages (same sizes) and awaiting their PUBACKs, "
                        "command to done; medians of " +
                        std::to_string(refresh_s.size())});
    env.report.add({"8 scale", "refresh round trip, " + entries + ", vs empty", format_duration(r),
                    format_duration(env.refresh_p50_s), format_ratio(r, env.refresh_p50_s),
                    "refresh p50 with an empty registry (section 1)"});
    env.report.add({"8 scale", "core/components snapshot, " + entries,
                    format_bytes(static_cast<double>(snapshot->payload.size())),
                    format_bytes(static_cast<double>(registry.size())),
                    format_ratio(static_cast<double>(snapshot->payload.size()),
                                 static_cast<double>(registry.size())),
                    "size of the registry.json it comes from"});
}

// The agents in lucidctl's --json output that are online, by agent_id.
std::set<std::string> online_agents(const std::string& json) {
    std::set<std::string> out;
    rapidjson::Document doc;
    doc.Parse(json.c_str(), json.size());
    if (doc.HasParseError() || !doc.IsArray()) return out;
    for (const auto& v : doc.GetArray()) {
        if (!v.IsObject() || !v.HasMember("agent_id") || !v.HasMember("state")) continue;
        if (v["state"] == "online" && v["agent_id"].IsString()) {
            out.insert(v["agent_id"].GetString());
        }
    }
    return out;
}

void fleet_scale(BenchEnv& env) {
    const fs::path dir = env.dir("fleet");
    Broker broker(Broker::Bench{dir / "broker"});
    broker.start();
    MqttClient d(broker.port(), "bench-fleet-driver");
    d.subscribe("lucid/agents/+/status");
    std::set<std::string> online;
    std::mutex m;
    d.set_tap([&](const Message& r) {
        if (string_field(r.payload, "state") == "online") {
            std::lock_guard<std::mutex> lock(m);
            online.insert(string_field(r.payload, "agent_id"));
        }
        return true;
    });

    std::vector<Process> fleet;
    fleet.reserve(kFleet);
    const auto start = Clock::now();
    for (int i = 0; i < kFleet; ++i) {
        char id[32];
        std::snprintf(id, sizeof id, "fleet-%03d", i);
        fs::create_directories(dir / "agents" / id / "data");
        // Drop-in off: 200 inotify instances would exhaust the user's 128.
        AgentSpec spec{id, dir / "agents" / id / "data", {}, {{"LUCID_DROPIN", "off"}}};
        fleet.push_back(start_agent(env, broker, spec));
    }
    const auto deadline = Clock::now() + std::chrono::seconds(120);
    std::size_t seen = 0;
    while (Clock::now() < deadline) {
        {
            std::lock_guard<std::mutex> lock(m);
            seen = online.size();
        }
        if (seen >= static_cast<std::size_t>(kFleet)) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    const double fleet_up = seconds_between(start, Clock::now());
    d.set_tap(nullptr);
    if (seen < static_cast<std::size_t>(kFleet)) {
        throw std::runtime_error("only " + std::to_string(seen) + " of the fleet came online");
    }

    std::vector<double> ctl_s, raw_s;
    std::size_t listed = 0, raw_listed = 0;
    const int reps = std::max(3, env.samples(5));
    for (int i = 0; i < reps; ++i) {
        const fs::path out = dir / ("lucidctl." + std::to_string(i) + ".json");
        Process ctl;
        const auto t0 = Clock::now();
        ctl.start({env.paths.lucidctl.string(), "--url", broker.url(), "--json", "agents"}, {},
                  out);
        const auto code = ctl.wait_exit(std::chrono::seconds(60));
        ctl_s.push_back(seconds_between(t0, Clock::now()));
        if (code != 0) throw std::runtime_error("lucidctl agents failed: " + ctl.log());
        listed = online_agents(ctl.log()).size();

        const fs::path raw_out = dir / ("raw." + std::to_string(i) + ".txt");
        const auto t1 = Clock::now();
        Process raw = start_raw(env, "list", broker.port(), "lucid/agents/+/status", raw_out);
        raw.wait_exit(std::chrono::seconds(60));
        raw_s.push_back(seconds_between(t1, Clock::now()));
        raw_listed = std::strtoul(raw.log().c_str(), nullptr, 10);
    }
    const double c = median(ctl_s), r = median(raw_s);
    env.report.add({"8 scale", "`lucidctl agents`, 200 agents (wall)", format_duration(c),
                    format_duration(r), format_ratio(c, r),
                    "raw client reading the same retained statuses (" + std::to_string(raw_listed) +
                        " seen); lucidctl listed " + std::to_string(listed) + " of " +
                        std::to_string(kFleet) + " online; fleet of processes online " +
                        format_duration(fleet_up) + " after the first exec; median of " +
                        std::to_string(reps)});
    if (listed != static_cast<std::size_t>(kFleet)) {
        env.report.note("lucidctl agents listed " + std::to_string(listed) + " of " +
                        std::to_string(kFleet) + " agents");
    }
    // All at once: each publishes its offline status and exits.
    for (auto& a : fleet) a.signal(SIGTERM);
    for (auto& a : fleet) a.stop(SIGTERM, std::chrono::seconds(10));
}

}  // namespace

void run_scale(BenchEnv& env, Broker& broker) {
    registry_scale(env, broker);
    fleet_scale(env);
}

}  // namespace lucid::bench
