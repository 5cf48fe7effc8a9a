// lucid-bench: the benchmarks of issue 7 (see BENCHMARKS.md). Starts its own mosquitto on
// loopback and the real lucid-agent processes, measures every figure beside a baseline taken in
// the same run, and prints one Markdown table. scripts/bench.sh builds and runs it.
//
//   lucid-bench [--quick] [--only 1,3,...] [--keep] [--out FILE] [--agent PATH]
//
// --quick takes about a fifth of the samples (for trying it out); --only runs some scenarios
// (2 comes with 1); --keep leaves the scratch directory (logs of every process) in place;
// --agent runs another lucid-agent binary (e.g. a patched build, to compare a fix).
// Exit code: 0 when every scenario produced its figures, 1 otherwise (the table says which).
#include <stdlib.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <iostream>
#include <set>
#include <string>

#include "scenarios.hpp"
#include "stats.hpp"

using namespace lucid::bench;

namespace {

struct Scenario {
    int number;
    const char* name;
    std::function<void(BenchEnv&, Broker&)> run;
};

std::set<int> parse_only(const std::string& list) {
    std::set<int> out;
    std::size_t pos = 0;
    while (pos < list.size()) {
        out.insert(std::atoi(list.c_str() + pos));
        pos = list.find(',', pos);
        if (pos == std::string::npos) break;
        ++pos;
    }
    return out;
}

}  // namespace

int main(int argc, char** argv) {
    std::signal(SIGPIPE, SIG_IGN);
    BenchEnv env;
    std::set<int> only;
    bool keep = false;
    std::string out_file;
    std::string agent = LUCID_BENCH_AGENT;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--quick") {
            env.quick = true;
        } else if (a == "--keep") {
            keep = true;
        } else if (a == "--only" && i + 1 < argc) {
            only = parse_only(argv[++i]);
        } else if (a == "--agent" && i + 1 < argc) {
            agent = argv[++i];
        } else if (a == "--out" && i + 1 < argc) {
            out_file = argv[++i];
        } else {
            std::fprintf(stderr,
                         "usage: lucid-bench [--quick] [--only 1,3,...] [--keep] [--out FILE] "
                         "[--agent PATH]\n");
            return 2;
        }
    }
    env.paths.raw_client = LUCID_BENCH_RAW;
    env.paths.agent = agent;
    env.paths.lucidctl = LUCID_BENCH_LUCIDCTL;
    env.paths.cpu_plugin = LUCID_BENCH_CPU_PLUGIN;
    env.paths.echo_plugin = LUCID_BENCH_ECHO_PLUGIN;
    env.paths.bench_plugins = LUCID_BENCH_PLUGIN_DIR;
    env.paths.platform_tag = LUCID_BENCH_PLATFORM_TAG;
    char root[] = "/tmp/lucid-bench-XXXXXX";
    if (mkdtemp(root) == nullptr) {
        std::perror("mkdtemp");
        return 1;
    }
    env.root = root;

    // Order: later scenarios reuse earlier figures as baselines (refresh from 1, the
    // raw idle RSS from 4, the empty-registry start from 5); the table is printed by number.
    const std::vector<Scenario> scenarios{
        {1, "command round trip and throughput", run_command_round_trip},
        {4, "footprint", run_footprint},
        {5, "start to online", run_start_to_online},
        {3, "plugin dispatch", run_plugin_dispatch},
        {6, "install", run_install},
        {7, "reconnect", [](BenchEnv& e, Broker&) { run_reconnect(e); }},
        {8, "scale", run_scale},
        {9, "fleet", [](BenchEnv& e, Broker&) { run_fleet(e); }},
        {10, "process isolation", run_isolation},
        {11, "telemetry", run_telemetry},
    };
    bool complete = true;
    {
        Broker broker(Broker::Bench{env.root / "broker"});
        broker.start();
        for (const auto& s : scenarios) {
            if (!only.empty() && only.count(s.number) == 0) continue;
            std::fprintf(stderr, "[bench] %d %s ...\n", s.number, s.name);
            const auto start = Clock::now();
            try {
                s.run(env, broker);
            } catch (const std::exception& e) {
                complete = false;
                env.report.missing(std::to_string(s.number) + " " + s.name, "(not measured)",
                                   std::string("failed: ") + e.what());
                std::fprintf(stderr, "[bench] %d failed: %s\n", s.number, e.what());
            }
            std::fprintf(stderr, "[bench] %d done in %s\n", s.number,
                         format_duration(seconds_between(start, Clock::now())).c_str());
        }
    }
    env.report.print(std::cout);
    if (!out_file.empty()) {
        std::ofstream out(out_file);
        env.report.print(out);
    }
    if (keep) {
        std::fprintf(stderr, "[bench] scratch directory kept: %s\n", env.root.c_str());
    } else {
        std::error_code ec;
        std::filesystem::remove_all(env.root, ec);
    }
    return complete ? 0 : 1;
}
