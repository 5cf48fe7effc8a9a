// The device metrics the agent knows (contract §4.14): their names, the topic level of
// telemetry/<name> and the key of telemetry.metrics.<name>, and their units. Here, in the
// contract, so that lucidctl knows them too (config set's did-you-mean) without the agent's
// telemetry code. Pure constants.
#pragma once

#include <array>
#include <string_view>

namespace lucid::host::contract {

struct MetricInfo {
    std::string_view name;  // the topic level: telemetry/<name>
    std::string_view unit;  // data.unit
};

// In the order core/cfg/state lists them.
inline constexpr std::array<MetricInfo, 8> kAgentMetrics{{
    {"cpu_percent", "%"},
    {"memory_percent", "%"},
    {"disk_percent", "%"},
    {"load1", "load"},
    {"temperature_c", "celsius"},
    {"net_rx_bytes_per_s", "bytes/s"},
    {"net_tx_bytes_per_s", "bytes/s"},
    {"agent_rss_bytes", "bytes"},
}};

}  // namespace lucid::host::contract
