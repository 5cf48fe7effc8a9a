// The fleet as the broker keeps it: what each agent's retained messages say (status, core/state,
// core/metadata, core/components, desired, core/deployment), read once for `agents`, `fleet`
// and rollouts alike, and the views lucidctl draws from it: an order for the table and counts by
// version and state. Pure (the broker read is read_fleet() in agents.cpp); thread-compatible.
//
// Example: fleet_from_retained("lucid/agents", client.retained(fleet_filters("lucid/agents")),
// now) → {"dev1": {presence online, health "running", components {"cpu": {"1.2.0","running"}}}}.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "contract/deployment_report.hpp"
#include "contract/labels.hpp"
#include "lucidctl/agent_presence.hpp"
#include "lucidctl/broker_client.hpp"

namespace lucid::host::ctl {

struct SeenComponent {
    std::string version;
    std::string state;  // as core/components says: running, stopped, failed, ...
};

struct FleetAgent {
    std::string id;
    std::string status_payload;  // the retained status as published
    AgentPresence presence;
    contract::Labels labels;  // core/metadata (the Will leaves it alone)
    std::string platform;     // core/metadata build_platform
    std::string health;       // core/state `state` (running, degraded); "" when none
    std::vector<std::string> degraded_reasons;
    // core/components by component id; nullopt when the agent published none.
    std::optional<std::map<std::string, SeenComponent>> components;
    std::optional<std::string> desired;  // the retained desired document, as published
    std::optional<contract::Deployment> deployment;

    std::size_t failed_components() const;
    // The version of `component` it runs, "" when it has none (or it is not known).
    std::string installed(const std::string& component) const;
};

using Fleet = std::map<std::string, FleetAgent>;  // by agent id

// The topic filters whose retained messages fleet_from_retained() reads.
std::vector<std::string> fleet_filters(const std::string& topic_root);
// Every agent with a retained status under `topic_root`; other messages of agents without one
// are ignored (forgotten agents, a stray desired document), as are payloads that do not parse.
Fleet fleet_from_retained(const std::string& topic_root,
                          const std::vector<ReceivedMessage>& messages,
                          SystemClock::time_point now);

// The orders `agents --sort` knows: agent (id), state (online first), health (degraded
// first), version (newest first), components (most first), last-seen (longest gone first).
// Ties fall back to the agent id.
const std::vector<std::string>& fleet_sort_keys();
// The agents of `fleet` in the order of `key` (one of fleet_sort_keys()).
std::vector<const FleetAgent*> sorted_agents(const Fleet& fleet, const std::string& key);

// Counts across a fleet: agents by version, components by version and state, desired state
// outcomes (core/deployment `state`, "none" without one).
struct FleetSummary {
    struct VersionCount {
        std::string version;  // "" when the status says none
        std::size_t agents = 0;
        std::size_t online = 0;
    };
    struct ComponentCount {
        std::string component;
        std::string version;
        std::string state;
        std::size_t agents = 0;
    };
    std::size_t agents = 0;
    std::size_t online = 0;
    std::size_t degraded = 0;                                      // online and core/state degraded
    std::vector<VersionCount> versions;                            // newest first
    std::vector<ComponentCount> components;                        // by id, newest version first
    std::vector<std::pair<std::string, std::size_t>> deployments;  // by state name
};
FleetSummary summarize(const Fleet& fleet);

}  // namespace lucid::host::ctl
