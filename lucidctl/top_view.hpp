// What `lucidctl top` shows (contract §9): one agent's status and health, its latest telemetry
// (§4.14) and its components, built from the messages the agent publishes under its root and
// drawn as a screen of lines:
//
//   agent dev-1  online  1.4.0  session 3  up 2h 05m  running  2026-12-01T12:01:05.000Z
//   (offline: `agent dev-1  offline since <ts> (5m0s ago)  1.4.0  session 3  (last: running)`)
//   cpu 12.3 %  memory 45.1 %  disk 20 %  load1 0.52  temperature 48.2 °C
//   net rx 1.2 KiB/s  tx 300 B/s  agent rss 11.3 MiB          (telemetry 1 s ago)
//
//   COMPONENT  VERSION  STATE    ISOLATION   RESTARTS  ERROR
//   cpu        1.0.0    running  in_process  0
//
// A metric not received says so, and when the agent's config (core/cfg/state) shows telemetry
// off or no metric enabled, the screen says how to turn it on. An offline agent publishes no
// telemetry: the screen says so, with the last values received and their age, and heads the
// component states LAST STATE (as plugin list does). DROPPED and DUPLICATES (a component's
// dropped_messages and duplicates_dropped) are columns while one of them is not zero.
//
// Pure: apply() takes the topic below the agent's root and the payload; agent text is made
// printable before it is shown. Thread: one thread.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace lucid::host::ctl {

struct TopMetric {
    double value = 0;
    std::string unit;
    std::chrono::steady_clock::time_point received;
};

struct TopComponent {
    std::string version;
    std::string state;
    std::string isolation;
    std::string restarts;
    std::string error;
    std::string dropped = "0";                 // dropped_messages of its status
    std::string duplicates = "0";              // duplicates_dropped of its status
    std::map<std::string, TopMetric> metrics;  // components/{cid}/telemetry/{metric}
};

struct TopModel {
    std::string agent_id;
    std::string state;  // status: online/offline; empty until seen
    std::string version;
    std::string session;
    std::string status;  // the status payload: uptime and "offline since" are computed when drawn
    std::string health;  // core/state: running/degraded
    std::string health_ts;  // core/state's ts: an offline agent's last sign of life
    std::vector<std::string> degraded_reasons;
    std::map<std::string, TopMetric> metrics;  // telemetry/{metric}
    std::map<std::string, TopComponent> components;
    bool cfg_seen = false;  // core/cfg/state received
    bool telemetry_enabled = true;
    int metrics_enabled = 0;
};

// Folds one message of the agent (`suffix`: the topic below `{root}/{agent_id}/`) into `model`.
// Returns true when the screen may change. Payloads that do not parse are ignored.
bool apply_top_message(TopModel& model, const std::string& suffix, const std::string& payload,
                       std::chrono::steady_clock::time_point now);

// The screen, each line cut to `width` columns (0: no limit). `wall` is the time shown and the
// one uptime (from connected_since, as `status` computes it) and "offline since" are taken at.
std::vector<std::string> top_screen(const TopModel& model, std::size_t width,
                                    std::chrono::steady_clock::time_point now,
                                    std::chrono::system_clock::time_point wall);

// "1.2 KiB/s", "11.3 MiB", "12.3 %", "0.52": a metric's value with its unit, as top shows it.
std::string format_metric(const TopMetric& metric);

}  // namespace lucid::host::ctl
