// lucidctl's commands (contract §9): each one a request over the broker, a read of retained
// snapshots, or (inspect, the offline plugin list) a read of local files.
//
// Topics and payload fields come from host/contract, the same code the agent uses.
// Output goes to `out` (tables, or the agent's JSON with --json); diagnostics to `err`.
// Returns the process exit code (options.hpp ExitCode).
#pragma once

#include <cstdint>
#include <filesystem>
#include <iosfwd>
#include <string>

#include "lucidctl/options.hpp"
#include "mqtt/mqtt_session.hpp"
#include "mqtt/mqtt_url.hpp"

namespace lucid::host::ctl {

struct CtlTarget {
    mqtt::MqttEndpoint endpoint;
    mqtt::TlsFiles tls;
    std::string agent_id;
    std::string topic_root;
    std::string fleet_root = "lucid";
    std::filesystem::path data_dir;
    // The artifact size cap as this machine's settings say (the agent's, on the device): an
    // inline install larger than it is refused before it is sent.
    std::uint64_t max_artifact_bytes = 64ull * 1024 * 1024;
    std::string max_artifact_origin = "default";
    // LUCID_TRUSTED_KEYS_DIR as this machine's settings say: what lucidctl verify checks with
    // unless --keys gives a directory.
    std::filesystem::path trusted_keys_dir;
    // LUCID_ACCEPT_BARE_SIGNATURES as this machine's settings say: lucidctl verify refuses a bare
    // signature where the agent would.
    bool accept_bare_signatures = true;
};

int run_ctl_command(const CtlOptions& options, const CtlTarget& target, std::ostream& out,
                    std::ostream& err);

}  // namespace lucid::host::ctl
