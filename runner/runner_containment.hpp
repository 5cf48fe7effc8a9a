// What the runner's options ask of containment/ (the measures of issue 17 item 3), applied to
// this process before the plugin is loaded.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "containment/plugin_image.hpp"
#include "runner_options.hpp"

namespace lucid::runner {

struct Contained {
    // name -> "applied" | "not requested" | "unavailable: <why>" | "failed: <why>", in a fixed
    // order.
    std::vector<std::pair<std::string, std::string>> measures;
    // With run_as: the plugin file copied while still root, loaded from memory afterwards. A
    // copy that failed fails the run_as measure: the plugin never runs as the agent's user.
    std::optional<containment::PluginImage> image;
};

Contained contain(const RunnerOptions& options);

}  // namespace lucid::runner
