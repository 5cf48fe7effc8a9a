// 6. Install: command to result for a small plugin from a file URL and inline; uninstall;
// upgrade; upgrade with rollback (version 3.0.0 fails in start()). The baseline ("floor") is
// what any installer must do at least: the echo round trip plus reading, hashing, copying with
// fsync and dlopen/dlclose of the same file, measured here in the bench process.
#include <stdexcept>

#include "artifacts.hpp"
#include "scenarios.hpp"
#include "stats.hpp"

namespace lucid::bench {
namespace {

const char* const kComponent = "bench-small";

struct Installer {
    MqttDriver& d;
    std::string agent;

    std::pair<double, std::string> install(const fs::path& file, bool inline_source) {
        const std::string rid = next_request_id("install");
        std::string source;
        if (inline_source) {
            source = "{\"type\":\"inline\",\"filename\":\"" + file.filename().string() +
                     "\",\"data_base64\":\"" + base64(read_text(file)) + "\",\"sha256\":\"" +
                     sha256_hex(file) + "\"}";
        } else {
            source = "{\"type\":\"url\",\"url\":\"" + file_url(file) + "\",\"sha256\":\"" +
                     sha256_hex(file) + "\"}";
        }
        const std::string payload = "{\"request_id\":\"" + rid + "\",\"component_id\":\"" +
                                    kComponent + "\",\"source\":" + source + "}";
        const auto r = run_command(d, agent, "core/cmd/components/install",
                                   "core/evt/components/install_result", payload, rid);
        if (!r.answered) throw std::runtime_error("install timed out");
        return {r.seconds, r.payload};
    }

    std::pair<double, std::string> uninstall() {
        const std::string rid = next_request_id("uninstall");
        const auto r = run_command(
            d, agent, "core/cmd/components/uninstall", "core/evt/components/uninstall_result",
            "{\"request_id\":\"" + rid + "\",\"component_id\":\"" + kComponent + "\"}", rid);
        if (!r.answered) throw std::runtime_error("uninstall timed out");
        return {r.seconds, r.payload};
    }
};

double expect(const std::pair<double, std::string>& r, bool ok, bool rolled_back,
              const char* what) {
    if (json_true(r.second, "ok") != ok || json_true(r.second, "rolled_back") != rolled_back ||
        json_true(r.second, "noop")) {
        throw std::runtime_error(std::string(what) + " gave an unexpected result: " + r.second);
    }
    return r.first;
}

}  // namespace

void run_install(BenchEnv& env, Broker& broker) {
    const std::string id = "bench-install";
    const fs::path dir = env.dir("install");
    AgentSpec spec{id, dir / "data", dir / "plugins", {}};
    fs::create_directories(spec.plugin_dir);
    MqttDriver d(broker.port(), "bench-install-driver");
    d.subscribe(agent_topic(id, "status"));
    d.subscribe(agent_topic(id, "core/evt/components/+"));
    ChildProcess agent = start_agent(env, broker, spec);
    if (!wait_online(d, id, 0, std::chrono::seconds(20))) {
        throw std::runtime_error("install agent not online");
    }
    const fs::path v1 = env.paths.bench_plugin("lucid_bench_small", "1.0.0");
    const fs::path v2 = env.paths.bench_plugin("lucid_bench_small", "2.0.0");
    const fs::path v3 = env.paths.bench_plugin("lucid_bench_small", "3.0.0");

    Installer in{d, id};
    std::vector<double> url_s, inline_s, uninstall_s, upgrade_s, rollback_s, floor_s;
    const int reps = std::max(3, env.samples(5));
    for (int i = 0; i < reps; ++i) {
        url_s.push_back(expect(in.install(v1, false), true, false, "install (url)"));
        uninstall_s.push_back(expect(in.uninstall(), true, false, "uninstall"));
        inline_s.push_back(expect(in.install(v1, true), true, false, "install (inline)"));
        upgrade_s.push_back(expect(in.install(v2, false), true, false, "upgrade"));
        rollback_s.push_back(expect(in.install(v3, false), false, true, "upgrade with rollback"));
        uninstall_s.push_back(expect(in.uninstall(), true, false, "uninstall"));
        floor_s.push_back(install_floor_seconds(v1, dir / "floor"));
    }
    const double echo = env.echo_p50_s;
    const double floor = median(floor_s) + echo;
    const std::string n = std::to_string(reps);
    auto row = [&](const std::string& what, const std::vector<double>& s, double base,
                   const std::string& note) {
        const double m = median(s);
        env.report.add({"6 install", what, format_duration(m), format_duration(base),
                        format_ratio(m, base), note});
    };
    row("install, file URL", url_s, floor,
        "floor: echo round trip + sha256, copy with fsync, dlopen/dlclose of the file in the "
        "bench; medians of " +
            n);
    row("install, inline (base64)", inline_s, floor, "");
    row("uninstall", uninstall_s, echo, "echo round trip");
    row("upgrade 1.0.0 -> 2.0.0", upgrade_s, floor,
        "includes the agent's 300 ms health window of an upgrade");
    row("upgrade to 3.0.0 with rollback", rollback_s, floor,
        "3.0.0 fails in start(); 2.0.0 restored and running");
    agent.stop(SIGTERM);
}

}  // namespace lucid::bench
