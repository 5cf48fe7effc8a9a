// The runtime config that cfg/set changes (heartbeat_s, log_level, telemetry_enabled): the
// current value, its store, and the listeners that apply a change live (heartbeat period, log
// level, core/cfg/state republish).
//
// Thread: get() from any thread; set() from the fast command lane; listeners run on the caller
// of set() and must not call set(). Errors: set() throws std::system_error when the save fails,
// and then changes nothing.
#pragma once

#include <functional>
#include <mutex>
#include <vector>

#include "agent/core_config.hpp"

namespace lucid::host::agent {

class RuntimeConfig {
  public:
    using Listener = std::function<void(const CoreConfig&)>;

    // Loads the persisted config (defaults when none; a corrupt file is moved aside and logged).
    explicit RuntimeConfig(CoreConfigStore store);

    CoreConfig get() const;
    // How a change is saved: given the file's name in the data directory and its new content.
    // cfg/set journals it with its answer (DedupStore::record_with_file).
    using Save = std::function<void(const std::string& file_name, const std::string& content)>;
    // Saves (through `save`, or a durable write of the file when none is given), then applies.
    void set(const CoreConfig& config, const Save& save = {});
    void on_change(Listener listener);

  private:
    CoreConfigStore store_;
    mutable std::mutex mutex_;
    CoreConfig config_;
    std::vector<Listener> listeners_;
};

}  // namespace lucid::host::agent
