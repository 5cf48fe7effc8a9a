// 10. Process isolation (issue 17): the same plugin in the agent and in a lucid-plugin-runner
// child, measured in the same run.
//
// Round trips, dispatch and restart: one agent with the echo and bench_counter plugins, switched
// between in_process and process by core/cmd/components/configure in alternating blocks, so that
// a noisy neighbour on the machine hits both modes alike. Memory: three idle agents side by side
// (none, echo in-process, echo isolated), so the runner's figures stand beside what loading the
// same plugin adds to the agent. Crash: the echo runner is killed (SIGKILL) and the clock runs
// until components/echo/status says running again, for a first crash (restarted at once) and a
// second (after ProcessRuntimeSettings::first_backoff); a lifecycle restart before each pair
// resets the count, so it is never quarantined.
#include <dirent.h>

#include <csignal>
#include <fstream>
#include <stdexcept>
#include <thread>

#include "dispatch_drain.hpp"
#include "scenarios.hpp"
#include "stats.hpp"

namespace lucid::bench {
namespace {

const std::string kSection = "10 process isolation";
constexpr auto kTimeout = std::chrono::seconds(30);
constexpr auto kSettle = std::chrono::seconds(2);  // as section 4: start-up work done
constexpr double kFirstBackoffS = 0.100;  // ProcessRuntimeSettings::first_backoff (2nd crash)
const char* const kModes[] = {"in_process", "process"};

// Sends core/cmd/components/<name> with `fields` and returns the round trip; throws unless ok.
double component_command(MqttClient& d, const std::string& agent, const std::string& name,
                         const std::string& fields) {
    const std::string rid = next_request_id("iso-" + name);
    const auto r = run_command(d, agent, "core/cmd/components/" + name,
                               "core/evt/components/" + name + "_result",
                               "{\"request_id\":\"" + rid + "\"" + fields + "}", rid, kTimeout);
    if (!r.answered || !true_field(r.payload, "ok")) {
        throw std::runtime_error(name + ": " + (r.answered ? r.payload : "no answer"));
    }
    return r.seconds;
}

double echo_once(MqttClient& d, const std::string& agent) {
    const std::string rid = next_request_id("iso-echo");
    const auto r =
        run_command(d, agent, "components/echo/cmd/echo", "components/echo/evt/echo_result",
                    "{\"request_id\":\"" + rid + "\",\"message\":\"hi\"}", rid, kTimeout);
    if (!r.answered || !true_field(r.payload, "ok")) {
        throw std::runtime_error("echo: " + (r.answered ? r.payload : "no answer"));
    }
    return r.seconds;
}

// The next components/{cid}/status on `topic` in `state`.
std::optional<Message> take_state(MqttClient& d, const std::string& topic, const char* state) {
    return d.take(
        [&](const Message& m) {
            return m.topic == topic && string_field(m.payload, "state") == state;
        },
        kTimeout);
}

// The lucid-plugin-runner child of `agent` that runs `component` (its argv: --component ID).
pid_t runner_of(pid_t agent, const std::string& component) {
    const std::string wanted = std::string("--component") + '\0' + component + '\0';
    DIR* proc = ::opendir("/proc");
    if (proc == nullptr) throw std::runtime_error("cannot read /proc");
    pid_t found = 0;
    while (dirent* e = ::readdir(proc)) {
        const pid_t pid = std::atoi(e->d_name);
        if (pid <= 0) continue;
        const std::string base = "/proc/" + std::to_string(pid);
        std::ifstream stat(base + "/stat");
        std::string line;
        std::getline(stat, line);
        const auto close = line.rfind(')');
        if (close == std::string::npos || line.find("(lucid-plugin-r") == std::string::npos) {
            continue;
        }
        if (std::atoi(line.c_str() + close + 4) != agent) continue;  // ") S <ppid>"
        std::ifstream cmdline_file(base + "/cmdline");
        const std::string cmdline((std::istreambuf_iterator<char>(cmdline_file)), {});
        if (cmdline.find(wanted) != std::string::npos) found = pid;
    }
    ::closedir(proc);
    if (found == 0) throw std::runtime_error("no lucid-plugin-runner child runs " + component);
    return found;
}

struct Memory {
    double pss = 0, rss = 0, anon = 0;  // KiB
};

Memory memory_of(pid_t pid) {
    const auto pss = proc_kib(pid, "smaps_rollup", "Pss:");
    const auto rss = proc_kib(pid, "status", "VmRSS:");
    const auto anon = proc_kib(pid, "status", "RssAnon:");
    if (!pss || !rss || !anon)
        throw std::runtime_error("cannot read the memory of " + std::to_string(pid));
    return {double(*pss), double(*rss), double(*anon)};
}

// A directory under /dev/shm (tmpfs), removed with this once its logs are copied to `logs`;
// under the temporary directory when the machine has no /dev/shm.
struct TmpfsDir {
    fs::path path, logs;
    TmpfsDir(const std::string& name, fs::path logs_to) : logs(std::move(logs_to)) {
        std::error_code ec;
        path = fs::is_directory("/dev/shm", ec) ? fs::path("/dev/shm") / name
                                                : fs::temp_directory_path() / (name + "-shm");
        fs::create_directories(path);
    }
    ~TmpfsDir() {
        std::error_code ec;
        for (const auto& e : fs::directory_iterator(path, ec)) {
            if (e.path().extension() == ".log") {
                fs::copy_file(e.path(), logs / e.path().filename(), ec);
            }
        }
        fs::remove_all(path, ec);
    }
};

std::string kib(double v) { return format_bytes(v * 1024); }

// Idle memory of the echo runner beside the agent's growth when echo loads in-process.
void measure_memory(BenchEnv& env, Broker& broker, MqttClient& d, const fs::path& dir) {
    const std::vector<std::pair<std::string, const char*>> agents{
        {"bench-iso-bare", nullptr},
        {"bench-iso-inproc", "in_process"},
        {"bench-iso-proc", "process"}};
    std::vector<Process> running;
    for (const auto& [id, mode] : agents) {
        AgentSpec spec{id, dir / id, dir / (id + "-plugins"), {}};
        fs::create_directories(spec.plugin_dir);
        if (mode) {
            fs::copy_file(env.paths.echo_plugin,
                          spec.plugin_dir / env.paths.echo_plugin.filename());
            spec.extra["LUCID_DEFAULT_ISOLATION"] = mode;
        }
        d.subscribe(agent_topic(id, "status"));
        d.subscribe(agent_topic(id, "components/echo/status"));
        running.push_back(start_agent(env, broker, spec));
    }
    for (const auto& [id, mode] : agents) {
        if (!wait_online(d, id, 0, kTimeout)) throw std::runtime_error(id + " not online");
        const std::string topic = agent_topic(id, "components/echo/status");
        if (mode && !take_state(d, topic, "running")) {
            throw std::runtime_error(id + ": echo not running");
        }
    }
    std::this_thread::sleep_for(kSettle);  // idle is a duration, not an event
    const Memory bare = memory_of(running[0].pid()), inproc = memory_of(running[1].pid());
    const Memory agent = memory_of(running[2].pid());
    const Memory runner = memory_of(runner_of(running[2].pid(), "echo"));
    for (auto& p : running) p.stop(SIGTERM);

    const Memory grew{inproc.pss - bare.pss, inproc.rss - bare.rss, inproc.anon - bare.anon};
    env.report.add({kSection, "idle PSS of the echo runner", kib(runner.pss), kib(grew.pss),
                    format_ratio(runner.pss, grew.pss),
                    "the agent's growth when echo loads in-process (idle agent with echo - idle "
                    "agent without, " +
                        std::to_string(kSettle.count()) + " s idle; goal < 2 MiB)"});
    env.report.add({kSection, "idle RSS of the echo runner", kib(runner.rss), kib(grew.rss),
                    format_ratio(runner.rss, grew.rss), "same, VmRSS"});
    env.report.add({kSection, "idle RssAnon of the echo runner", kib(runner.anon), kib(grew.anon),
                    format_ratio(runner.anon, grew.anon), "same, RssAnon"});
    const double agent_side = agent.pss - bare.pss;
    env.report.add({kSection, "agent's own PSS growth, echo isolated", kib(agent_side),
                    kib(grew.pss), format_ratio(agent_side, grew.pss),
                    "what the agent keeps for an isolated plugin (context, channel), beside the "
                    "in-process growth"});
}

// bench_counter's "ping" on bench/plugin/in to its pong: a plugin round trip without the
// request log every plugin command rewrites.
double message_once(MqttClient& d) {
    const auto start = Clock::now();
    d.publish_nowait("bench/plugin/in", "ping", 1);
    auto r = d.take([](const Message& m) { return m.topic == "bench/plugin/count"; }, kTimeout);
    if (!r) throw std::runtime_error("no pong on bench/plugin/count");
    return seconds_between(start, r->received);
}

void add_percentiles(BenchEnv& env, const std::string& name, const std::vector<double>& process,
                     const std::vector<double>& in_process, const std::string& note) {
    for (double p : {50.0, 90.0, 99.0}) {
        const double l = percentile(process, p), b = percentile(in_process, p);
        env.report.add({kSection, name + " p" + std::to_string(int(p)), format_duration(l),
                        format_duration(b), format_ratio(l, b),
                        p == 50 ? note + ": " + std::to_string(process.size()) +
                                      " sequential requests per mode in 3 alternating blocks"
                                : ""});
    }
}

}  // namespace

void run_isolation(BenchEnv& env, Broker& broker) {
    const fs::path dir = env.dir("isolation");
    MqttClient d(broker.port(), "bench-isolation-driver");
    measure_memory(env, broker, d, dir);

    const std::string id = "bench-iso";
    const int per_block = env.samples(2000) / 3, count = env.samples(50000);
    // A queue that holds the whole burst: isolated, each message is a round trip to the runner,
    // so the default 1000 entries overflow while the agent reads the burst (messages dropped).
    // The data directory on tmpfs: every plugin command rewrites and fsyncs the request log
    // (about 150 KB here), whose disk latency would drown what isolation costs in both modes.
    const TmpfsDir shm(env.root.filename().string(), dir);
    AgentSpec spec{id,
                   shm.path / "data",
                   dir / "plugins",
                   {{"LUCID_PLUGIN_QUEUE_MAX", std::to_string(count + 100)}}};
    fs::create_directories(spec.plugin_dir);
    const fs::path counter = env.paths.bench_plugin("lucid_bench_counter", "1.0.0");
    for (const auto& p : {counter, env.paths.echo_plugin}) {
        fs::copy_file(p, spec.plugin_dir / p.filename());
    }
    const std::string status_topic = agent_topic(id, "components/echo/status");
    d.subscribe(agent_topic(id, "status"));
    d.subscribe(agent_topic(id, "core/evt/components/+"));
    d.subscribe(agent_topic(id, "components/echo/evt/echo_result"));
    d.subscribe(agent_topic(id, "components/+/status"));
    d.subscribe("bench/plugin/count");
    Process agent = start_agent(env, broker, spec);
    if (!wait_online(d, id, 0, kTimeout))
        throw std::runtime_error("agent not online: " + agent.log());
    for (const char* cid : {"echo", "bench-counter"}) {
        const std::string topic = agent_topic(id, std::string("components/") + cid + "/status");
        if (!take_state(d, topic, "running")) {
            throw std::runtime_error(std::string(cid) + " not running: " + agent.log());
        }
    }

    auto set_mode = [&](const char* mode) {
        for (const char* cid : {"echo", "bench-counter"}) {
            component_command(
                d, id, "configure",
                std::string(",\"component_id\":\"") + cid + "\",\"isolation\":\"" + mode + "\"");
        }
        wait_subscribed(d, "bench/plugin/in", "bench/plugin/count");
        for (int i = 0; i < 20; ++i) echo_once(d, id);  // first requests pay for lazy work
        d.clear();
    };

    // Round trip and dispatch, in alternating blocks.
    std::vector<double> rt[2], msg[2], rate[2];
    for (int block = 0; block < 3; ++block) {
        for (int m = 0; m < 2; ++m) {
            set_mode(kModes[m]);
            for (int i = 0; i < per_block; ++i) rt[m].push_back(echo_once(d, id));
            for (int i = 0; i < per_block; ++i) msg[m].push_back(message_once(d));
            rate[m].push_back(drain_rate(d, agent, "bench/plugin/in", "bench/plugin/count", count));
        }
    }
    add_percentiles(
        env, "echo plugin command", rt[1], rt[0],
        "the same echo plugin in-process, same agent, data dir on tmpfs (goal <= 1.3x)");
    add_percentiles(env, "plugin message round trip", msg[1], msg[0],
                    "bench_counter ping -> pong (subscription handler publishing), in-process");
    const double rp = median(rate[1]), ri = median(rate[0]);
    env.report.add({kSection, "broker -> plugin handler", format_rate(rp), format_rate(ri),
                    format_ratio(rp, ri),
                    "bench_counter in-process, same agent; " + std::to_string(count) +
                        " queued QoS 0 messages of 32 B drained, median of 3; plugin queue " +
                        std::to_string(count + 100) + " in both modes (goal >= 0.5x)"});

    // Restart: a lifecycle restart in each mode; in process isolation each is followed by two
    // SIGKILLs of the runner: a first crash (restarted at once) and a second (after
    // first_backoff). The lifecycle restart resets the count: never a third, never a quarantine.
    std::vector<double> restart[2], to_failed, first, second;
    const int reps = std::max(3, env.samples(10));
    const std::string echo_id = ",\"component_id\":\"echo\"";
    auto kill_runner = [&](std::vector<double>* to) {
        const pid_t runner = runner_of(agent.pid(), "echo");
        d.clear();
        const auto killed = Clock::now();  // the clock starts at kill(): an upper bound
        ::kill(runner, SIGKILL);
        const auto failed = take_state(d, status_topic, "failed");
        const auto again = take_state(d, status_topic, "running");
        if (!failed || !again) throw std::runtime_error("echo not running again: " + agent.log());
        to_failed.push_back(seconds_between(killed, failed->received));
        to->push_back(seconds_between(killed, again->received));
    };
    set_mode("in_process");
    for (int i = 0; i < reps; ++i) {
        restart[0].push_back(component_command(d, id, "restart", echo_id));
    }
    set_mode("process");
    for (int i = 0; i < reps; ++i) {
        restart[1].push_back(component_command(d, id, "restart", echo_id));
        kill_runner(&first);
        kill_runner(&second);
    }
    const double rs_p = median(restart[1]), rs_i = median(restart[0]);
    env.report.add({kSection, "component restart command", format_duration(rs_p),
                    format_duration(rs_i), format_ratio(rs_p, rs_i),
                    "core/cmd/components/restart of echo in-process, command to result; medians "
                    "of " +
                        std::to_string(reps)});
    const double one = median(first), two = median(second);
    env.report.add({kSection, "crashed runner, 1st crash: death -> running", format_duration(one),
                    format_duration(rs_i), format_ratio(one, rs_i),
                    "SIGKILL of the runner to components/echo/status running (restarted at once), "
                    "median of " +
                        std::to_string(reps) + " (max " + format_duration(percentile(first, 100)) +
                        "; failed reported after " + format_duration(median(to_failed)) +
                        "); baseline: the in-process restart command (goal < 50 ms)"});
    env.report.add({kSection, "crashed runner, 2nd crash: death -> running", format_duration(two),
                    format_duration(rs_i), format_ratio(two, rs_i),
                    "the next crash within the window: after the 100 ms first_backoff"});
    env.report.add({kSection, "crashed runner, 2nd crash: minus backoff",
                    format_duration(two - kFirstBackoffS), format_duration(rs_i),
                    format_ratio(two - kFirstBackoffS, rs_i), ""});
    agent.stop(SIGTERM);
}

}  // namespace lucid::bench
