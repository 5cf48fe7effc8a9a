// What the runner's options ask of containment/ (the measures of issue 17 item 3), applied to
// this process before the plugin is loaded.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "runner_options.hpp"

namespace lucid::runner {

// name -> "applied" | "not requested" | "unavailable: <why>" | "failed: <why>", in a fixed order.
std::vector<std::pair<std::string, std::string>> contain(const RunnerOptions& options);

}  // namespace lucid::runner
