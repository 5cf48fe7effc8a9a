// Payloads of the per-component retained snapshots and the install progress events (SPEC §3,
// §4), built like every other payload of contract/payloads.hpp. Pure.
#pragma once

#include <cstdint>
#include <string>

#include "contract/timestamp.hpp"
#include "plugin/plugin_host_services.hpp"

namespace lucid::host::components {

// components/{cid}/status: state, version, error.
std::string component_status_payload(const ComponentStatus& status,
                                     contract::Clock::time_point now);
// components/{cid}/cfg/state: cfg.
std::string component_cfg_state_payload(const std::string& config_json,
                                        contract::Clock::time_point now);
// core/evt/components/install_progress: request_id, phase, bytes, total.
std::string install_progress_payload(const std::string& request_id, const std::string& phase,
                                     std::uint64_t bytes, std::uint64_t total,
                                     contract::Clock::time_point now);

}  // namespace lucid::host::components
