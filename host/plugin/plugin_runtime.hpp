// The plugin runtime port of the component lifecycle (components/lifecycle_ports.hpp has the
// other two): where plugins run. InProcessRuntime runs them in the agent's process,
// isolation/ProcessRuntime each in a lucid-plugin-runner child, IsolatingRuntime picks one per
// component (README "Process isolation").
//
// Nothing crosses it by pointer into a plugin's memory: plugins are named by component id or by
// an opaque token, data is owned (strings, values).
//
// Thread: map/start/discard/stop/running/propose_config from the lifecycle, one at a time for
// one component, concurrently for different ones (the boot's parallel starts); deliver and
// take_command from the network thread. Errors: Expected/Status; nothing throws.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "common/expected.hpp"
#include "lucid/registry/entry.hpp"

namespace lucid::host {

// Where a component's plugin runs: in the agent's process, or in a lucid-plugin-runner child of
// its own, within these limits.
enum class Isolation { in_process, process };
const char* to_string(Isolation isolation);
std::optional<Isolation> parse_isolation(const std::string& text);

struct RunOptions {
    Isolation isolation = Isolation::in_process;
    registry::Limits limits;  // process isolation only
    registry::RunAs run_as;   // process isolation only; empty: the agent's user
};

// Where plugins run: load, start, stop, configure, and hand them messages.
class PluginRuntime {
  public:
    virtual ~PluginRuntime() = default;

    using Token = std::uint64_t;  // a mapped plugin not started yet
    struct Mapped {
        Token token = 0;
        std::string component_id;  // what the plugin's manifest declares
    };
    // Maps a plugin library and checks it (manifest, ABI, descriptor); no plugin code runs.
    // The error names the file.
    virtual Expected<Mapped> map(const std::filesystem::path& file, const RunOptions& options) = 0;
    // Runs create + start of a mapped plugin as the running instance of `component_id`. Its
    // states reach the lifecycle through ComponentLifecycle::report_status. On failure the
    // plugin is unloaded again and the error is the plugin's.
    virtual Status start(Token token, const std::string& component_id) = 0;
    // A mapped plugin that is not going to start after all.
    virtual void discard(Token token) = 0;
    struct Stopped {
        bool was_running = false;
        bool restart_required = false;  // the library could not be unmapped
    };
    virtual Stopped stop(const std::string& component_id) = 0;
    virtual bool running(const std::string& component_id) const = 0;
    // Proposes a whole config to a running plugin, which validates and persists it.
    virtual Status propose_config(const std::string& component_id,
                                  const std::string& config_json) = 0;

    // ---- the network thread ----
    // A message matching the filter of a plugin's subscription (PluginHostServices::subscribe).
    virtual void deliver(const std::string& component_id, std::uint64_t subscription,
                         const std::string& topic, const std::string& payload, int qos,
                         bool retain) = 0;
    // Queues a command for a running plugin; false when it is not running.
    virtual bool take_command(const std::string& component_id, const std::string& action,
                              const std::string& payload) = 0;

    // An uninstalled component: whatever the runtime kept on disk for it goes (process
    // isolation: its writable directory).
    virtual void remove_data(const std::string& component_id) { (void)component_id; }
};

}  // namespace lucid::host
