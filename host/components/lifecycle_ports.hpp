// The three ports of the component lifecycle (component_lifecycle.hpp): what it needs from the
// disk, from the plugins and from whoever shows the components' states. The agent plugs in
// DiskComponentStore, an IsolatingRuntime (in-process or child-process plugins) and
// ComponentManager's MQTT sink; unit tests plug in fakes
// (tests/unit/test_component_lifecycle.cpp).
//
// Nothing crosses a port by pointer into a plugin's memory: plugins are named by component id
// or by an opaque token, data is owned (strings, values), so that a runtime keeping its plugins
// in a child process (issue 17) implements the same interface with messages.
//
// Thread: the lifecycle calls ComponentStore and PluginRuntime under its own lifecycle mutex,
// one call at a time, except ComponentStore::update_config (a plugin worker, while the
// lifecycle may be in configure()) and the boot's parallel starts (map, start, discard,
// mark_starting, clear_starting, of different components at once); PluginRuntime::deliver and
// take_command come from the network thread. StatusSink may be called from any thread, never
// while the lifecycle holds a lock a plugin callback needs.
// Errors: Expected/Status (common/expected.hpp); nothing throws across a port.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/expected.hpp"
#include "components/crash_records.hpp"
#include "dropin/file_version.hpp"
#include "lucid/registry/registry.hpp"
#include "plugin/crash_record.hpp"
#include "plugin/plugin_host_services.hpp"
#include "plugin/plugin_runtime.hpp"

namespace lucid::host::components {

// The registry, the component files and the crash-safety markers (crash_records.hpp).
class ComponentStore {
  public:
    virtual ~ComponentStore() = default;

    struct Loaded {
        registry::Registry registry;        // consistent with the files
        bool changed = false;               // repaired: to be saved
        std::vector<std::string> problems;  // what was found and repaired, for the log
    };
    // Loads (migrating the earlier agent's registries) and makes files and registry agree.
    virtual Loaded load() = 0;
    virtual Status save(const registry::Registry& registry) = 0;
    // Sets one entry's config under the registry file's lock; returns the registry saved.
    virtual Expected<registry::Registry> update_config(const std::string& component_id,
                                                       const std::string& config_json) = 0;

    // ---- component files: components/{dist}/{version}/{file} ----
    struct Placed {
        std::filesystem::path path;  // the file the registry is to name
        bool created = false;        // false: an identical file was there and is reused
    };
    virtual Expected<Placed> place(const std::filesystem::path& staged, const std::string& dist,
                                   const std::string& version, const std::string& file_name,
                                   const std::string& sha256) = 0;
    // Undoes a place() of a failed install (the file when created, empty folders).
    virtual void discard(const Placed& placed, const std::string& dist,
                         const std::string& version) = 0;
    virtual void remove_version(const std::string& dist, const std::string& version) = 0;

    // ---- crash-safety markers (never fail: attribution after a crash is lost at worst) ----
    virtual void mark_starting(const std::string& component_id, const StartMarker& marker) = 0;
    virtual void clear_starting(const std::string& component_id) = 0;
    virtual void mark_installing(const std::string& component_id,
                                 const PendingInstall& pending) = 0;
    virtual void clear_installing(const std::string& component_id) = 0;
    virtual std::optional<Quarantine> quarantine(const std::string& component_id) = 0;
    virtual std::map<std::string, Quarantine> quarantines() = 0;
    virtual void set_quarantine(const std::string& component_id, const Quarantine& q) = 0;
    virtual void lift_quarantine(const std::string& component_id) = 0;

    // What the last death of the agent left: read at boot, then consumed (removed) once the
    // lifecycle has acted on it.
    struct DeathEvidence {
        std::optional<crash::CrashRecord> crash;  // a plugin caught by the fatal-signal handler
        std::map<std::string, std::optional<StartMarker>> starting;  // starts that never ended
        std::map<std::string, PendingInstall> installing;            // installs never answered
        std::vector<std::string> problems;  // evidence that could not be read, for the log
    };
    virtual DeathEvidence read_deaths() = 0;
    virtual void consume_deaths() = 0;

    // ---- the drop-in directory's files ----
    virtual dropin::FileVersion file_version(const std::filesystem::path& file) = 0;
    // Renames a drop-in file (and its .sig) aside as `.<name>.<suffix>` (component_channel.hpp).
    virtual Status set_aside(const std::filesystem::path& file, const std::string& suffix) = 0;
    // The artifact files of `dist` (any version, not hidden) in the directory `dir`.
    virtual std::vector<std::filesystem::path> files_of_dist(const std::filesystem::path& dir,
                                                             const std::string& dist) = 0;
};

// Where plugins run (plugin/plugin_runtime.hpp): below the components, so that both runtimes
// (in_process_runtime.hpp, isolation/process_runtime.hpp) implement it.
using host::Isolation;
using host::PluginRuntime;
using host::RunOptions;

// Where the components' states are shown (the agent: retained MQTT snapshots). One-way: the
// lifecycle never waits for, nor reads back, what it told.
class StatusSink {
  public:
    virtual ~StatusSink() = default;
    // components/{cid}/status
    virtual void status(const std::string& component_id, const ComponentStatus& status) = 0;
    // components/{cid}/cfg/state
    virtual void config(const std::string& component_id, const std::string& config_json) = 0;
    // Neither installed nor failed any more: its snapshots are cleared.
    virtual void forgotten(const std::string& component_id) = 0;
    // The list of components or one of their states changed (core/components).
    virtual void changed() = 0;
};

}  // namespace lucid::host::components
