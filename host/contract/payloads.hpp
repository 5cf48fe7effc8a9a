// Pure builders of every retained snapshot, the Will and the command results (contract §3, §4).
// Each payload is a JSON object carrying `schema` (kSchema) and `ts` (contract/timestamp.hpp);
// the builders take the instant to stamp so that tests are deterministic.
//
// Thread: pure functions; the Result class is not shared between threads. Errors: none thrown
// except std::bad_alloc.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <rapidjson/document.h>

#include "contract/component_state.hpp"
#include "contract/labels.hpp"
#include "contract/timestamp.hpp"
#include "lucid/registry/entry.hpp"

namespace lucid::host::contract {

inline constexpr std::string_view kSchema = "lucid.core.v1.0.0";

// How the last upgrade of the agent itself ended (contract §4.16): `status`'s `last_upgrade`.
struct LastUpgradeInfo {
    std::string version;
    std::string outcome;  // committed | rolled_back
    std::string reason;   // "" → null
    std::string ts;
};

// `status` (retained) and the Last Will.
struct StatusInfo {
    bool online = true;
    std::string agent_id;
    std::string version;
    std::uint64_t session = 0;
    std::optional<Clock::time_point> connected_since;  // null while offline
    double uptime_s = 0;
    std::string instance;                 // random per process (agent/takeover_detector.hpp)
    std::optional<std::string> conflict;  // another process seen online with this agent_id
    Labels labels;
    std::optional<LastUpgradeInfo> last_upgrade;  // null until the agent upgraded itself
};
std::string status_payload(const StatusInfo& info, Clock::time_point now);
// The Will carries only what is known when it is armed: state offline, agent_id, version,
// session (contract §3.3), and the process's instance.
std::string will_payload(std::string_view agent_id, std::string_view version, std::uint64_t session,
                         std::string_view instance, Clock::time_point now);

// `core/metadata`.
struct MetadataInfo {
    std::string agent_id;
    std::string version;
    std::string platform;  // "linux"
    std::string arch;      // uname machine, e.g. "x86_64", "aarch64"
    std::string hostname;
    std::string plugin_abi;  // "<major>.<minor>" of the plugin ABI the host offers
    Labels labels;
    // The platform tag this agent was built for (linux_x86_64, linux_aarch64, ...): the
    // artifacts it takes from a desired state, whatever `arch` says.
    std::string build_platform;
};
std::string metadata_payload(const MetadataInfo& info, Clock::time_point now);

// `core/state`: `degraded` as soon as one component failed or the agent itself has a reason
// (`degraded_reasons`, e.g. "data directory read-only: /var/lib/lucid: Read-only file system").
struct CoreStateInfo {
    std::string agent_id;
    double uptime_s = 0;
    std::size_t components_running = 0;
    std::size_t components_failed = 0;
    std::vector<std::string> degraded_reasons;  // the agent's own; [] when none
};
std::string core_state_payload(const CoreStateInfo& info, Clock::time_point now);

// One entry of `core/components`: the registry entry (§6) plus its live state.
struct ComponentSnapshot {
    registry::Entry entry;
    ComponentState state = ComponentState::stopped;  // published as wire_state()
    std::string error;                               // empty → null
    std::string isolation;       // where it runs (or would run): in_process | process
    std::uint64_t restarts = 0;  // after crashes in process isolation
    // Its dist's version floor (contract §8.12), "" when it has none or it cannot be read.
    std::string floor;
    // "signed by key <id>, which is revoked (<why>)" (contract §8.14), "" when none.
    std::string warning;

    bool operator==(const ComponentSnapshot& o) const {
        return entry == o.entry && state == o.state && error == o.error &&
               isolation == o.isolation && restarts == o.restarts && floor == o.floor &&
               warning == o.warning;
    }
};
std::string components_payload(const std::vector<ComponentSnapshot>& components,
                               Clock::time_point now);

// core/components payloads that keep each component's serialized member until its snapshot
// changes: a refresh of 1,000 unchanged entries serializes none of them again. The same text as
// components_payload(). Thread: one caller at a time.
class ComponentsPayloadCache {
  public:
    std::string payload(const std::vector<ComponentSnapshot>& components, Clock::time_point now);

  private:
    struct Member {
        ComponentSnapshot snapshot;
        std::string json;
    };
    std::map<std::string, Member> members_;  // by component id
};

// `components/{cid}/status`: state, version, error (null when empty), dropped_messages (on the
// plugin's subscriptions, since it started: its queue was full or it was unresponsive).
// Also `isolation` (in_process | process), `restarts` (after crashes in process isolation) and,
// in process isolation, `containment`: each measure and what became of it, and `run_as` when
// its child runs as another user (contract §4.13).
struct StatusExtras {
    std::string_view isolation = "in_process";
    const std::vector<std::pair<std::string, std::string>>* containment = nullptr;
    std::uint64_t restarts = 0;
    std::string_view demoted;  // why it was moved into process isolation: `demoted: true`,
                               // `demoted_because`
    const registry::RunAs* run_as = nullptr;  // its child's user: `run_as` (none: the agent's)
    std::string_view warning;  // signed by a revoked key (contract §8.14): `warning`
    // Messages its de-duplicating subscriptions skipped (LUCID_SUBSCRIBE_DEDUP, §5.3).
    std::uint64_t duplicates_dropped = 0;
    // Its own log level (components/{cid}/cfg/logging/set, §4.15): `log_level`; empty: none.
    std::string_view log_level;
};
std::string component_status_payload(ComponentState state, std::string_view version,
                                     std::string_view error, std::uint64_t dropped_messages,
                                     Clock::time_point now, const StatusExtras& extras = {});
// `components/{cid}/cfg/state`: the component's config object (serialized JSON) as `cfg`.
std::string component_cfg_state_payload(const std::string& config_json, Clock::time_point now);
// `core/evt/components/install_progress`.
std::string install_progress_payload(std::string_view request_id, std::string_view phase,
                                     std::uint64_t bytes, std::uint64_t total,
                                     Clock::time_point now);

// The agent streams telemetry (contract §4.14): `core/cfg/state` and cfg/set results say so with
// `telemetry_supported: true`, as the earlier agent's later contract has it.
inline constexpr bool kTelemetrySupported = true;

// `core/cfg/state`: `cfg` (the runtime config as a JSON object, agent/core_config.hpp) and
// `telemetry_supported`.
std::string cfg_state_payload(const rapidjson::Value& cfg, Clock::time_point now);

// A command result: `schema`, `ts`, `request_id`, `ok`, `error` plus command-specific fields.
//
//   Result r("req-1", now);
//   r.fail("not supervised");            // or r.succeed()
//   r.set("snapshots_updated", 5);
//   publish(topic, r.str());
class Result {
  public:
    Result(std::string_view request_id, Clock::time_point now);

    Result& succeed();                     // ok:true, error:null (the default)
    Result& fail(std::string_view error);  // ok:false, error:"..."

    Result& set(std::string_view key, std::string_view value);
    Result& set(std::string_view key, const char* value) {
        return set(key, std::string_view(value));
    }
    Result& set(std::string_view key, bool value);
    Result& set(std::string_view key, std::int64_t value);
    Result& set(std::string_view key, int value) {
        return set(key, static_cast<std::int64_t>(value));
    }
    // Copies a JSON value (e.g. the `applied` object of cfg/set).
    Result& set(std::string_view key, const rapidjson::Value& value);

    rapidjson::Document::AllocatorType& allocator() { return doc_.GetAllocator(); }
    bool ok() const;
    // A field set so far, nullptr when absent (e.g. for the audit line of an operation).
    const rapidjson::Value* find(std::string_view key) const;
    std::string str() const;

  private:
    rapidjson::Value& field(std::string_view key);
    rapidjson::Document doc_;
};

// Serializes a JSON value compactly, as valid UTF-8 (invalid bytes in strings become U+FFFD).
std::string to_json(const rapidjson::Value& value);

}  // namespace lucid::host::contract
