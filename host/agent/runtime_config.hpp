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
    void set(const CoreConfig& config);
    void on_change(Listener listener);

  private:
    CoreConfigStore store_;
    mutable std::mutex mutex_;
    CoreConfig config_;
    std::vector<Listener> listeners_;
};

}  // namespace lucid::host::agent
