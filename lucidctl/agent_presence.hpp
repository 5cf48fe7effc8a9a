// What lucidctl can tell about an agent from its retained messages: online or offline, since
// when, its uptime now, and when it was last seen. Pure; thread-safe.
//
// `status` is the agent's retained status; `other_ts` the `ts` of its other retained snapshots
// (core/state is republished on every change). The Last Will is written at connect time, so its
// `ts` is that of the connect, not of the loss: an offline agent's `since` is the latest `ts`
// lucidctl can see (the clean shutdown's own time, or for a lost connection the last snapshot
// the agent published), i.e. its last sign of life.
//
// Example: status {"state":"online","connected_since":"2026-11-30T00:00:00.000Z",...} at
// 00:10:00 gives online, uptime 600 s (not the uptime_s of the last heartbeat).
#pragma once

#include <rapidjson/document.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "contract/timestamp.hpp"

namespace lucid::host::ctl {

using SystemClock = std::chrono::system_clock;

struct AgentPresence {
    bool known = false;   // a retained status exists
    bool online = false;  // its state is "online"
    std::string agent_id;
    std::string version;
    std::string session;
    std::string last_seen;              // latest ts seen (contract format), "" when none
    std::optional<double> uptime_s;     // online: now - connected_since
    std::optional<double> offline_for;  // offline: now - last_seen, seconds
    std::string conflict;               // the status field `conflict`, when present
};

AgentPresence agent_presence(const rapidjson::Value& status,
                             const std::vector<std::string>& other_ts, SystemClock::time_point now);

using contract::parse_utc_timestamp;  // contract/timestamp.hpp

// 93784 → "1d2h3m4s"; 59 → "59s".
std::string format_duration(double seconds);

// "7d", "12h", "30m", "45s", "90" (seconds) → seconds; nullopt when malformed or not positive.
std::optional<double> parse_age(const std::string& text);

}  // namespace lucid::host::ctl
