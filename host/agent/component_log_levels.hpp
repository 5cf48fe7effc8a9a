// The components' own log levels (contract §4.15, components/{cid}/cfg/logging/set), kept in
// `{data}/log_levels.json` as `{"components": {"<cid>": "<level>"}}` so that they survive a
// restart as a component's config does. A missing file is no levels; a corrupt one is moved
// aside (`log_levels.corrupt.<ts>.json`) and reported, never silently lost.
//
// restore() at start gives the LogTap the stored levels; set() saves first, then applies.
//
// Thread: any; calls are serialized inside. Errors: set() throws std::system_error when the file
// cannot be saved, and then changes nothing; the others throw nothing.
#pragma once

#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "common/log_tap.hpp"

#include <spdlog/common.h>

namespace lucid::host::agent {

class ComponentLogLevels {
  public:
    using Levels = std::map<std::string, spdlog::level::level_enum>;

    ComponentLogLevels(std::filesystem::path data_dir, LogTap& tap);

    // Loads the file and applies it; `problem` receives what was moved aside, if anything.
    void restore(std::string* problem);
    // nullopt: the component follows the agent's levels again.
    void set(const std::string& component_id, std::optional<spdlog::level::level_enum> level);
    // Its level's name (trace … error), or nullopt when it follows the agent's levels.
    std::optional<std::string> name_of(const std::string& component_id) const;
    // Whether it has a level of its own, stored.
    bool has(const std::string& component_id) const { return name_of(component_id).has_value(); }
    // The component is gone (uninstalled): its level is dropped, so that it neither outlives it
    // nor comes back with a later install of that id. Never throws: a file that cannot be saved
    // is said in `problem` (the level is dropped in memory; the file keeps it until the next
    // change saves).
    void forget(const std::string& component_id, std::string* problem);

  private:
    Levels load(std::string* problem) const;
    void save(const Levels& levels) const;

    std::filesystem::path path_;
    LogTap& tap_;
    mutable std::mutex mutex_;
    Levels levels_;
};

}  // namespace lucid::host::agent
