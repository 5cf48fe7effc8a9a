// The benchmark scenarios of issue 7, 9 of issue 16, 10 of issue 17 and 11 of issue 19. Each
// starts what it needs (agents, baseline clients, sometimes its own broker), adds its rows to
// env.report and stops everything it started. Thread: the bench's main thread. Errors: a broken
// setup throws; main() reports the scenario as not measured and goes on with the next one.
#pragma once

#include "bench_env.hpp"

namespace lucid::bench {

void run_command_round_trip(BenchEnv& env, Broker& broker);  // 1 and 2
void run_plugin_dispatch(BenchEnv& env, Broker& broker);     // 3
void run_footprint(BenchEnv& env, Broker& broker);           // 4
void run_start_to_online(BenchEnv& env, Broker& broker);     // 5
void run_install(BenchEnv& env, Broker& broker);             // 6
void run_reconnect(BenchEnv& env);                           // 7 (own broker: it restarts it)
void run_scale(BenchEnv& env, Broker& broker);               // 8 (the fleet on its own broker)
void run_fleet(BenchEnv& env);                               // 9 (rollouts, own broker)
void run_isolation(BenchEnv& env, Broker& broker);           // 10 (issue 17)
void run_telemetry(BenchEnv& env, Broker& broker);           // 11 (issue 19)

}  // namespace lucid::bench
