// The isolation options of `plugin install` and `plugin isolate` (README "Process isolation"):
// --isolation MODE (install) or the MODE word (isolate), and --memory-mb, --open-files,
// --cpu-seconds, as the payload's `isolation` and `limits`, and --run-as USER[:GROUP,...] or
// --run-as-agent as its `run_as` (contract §4.1, §4.13).
//
// Thread: one. Errors: UsageError naming the option.
#pragma once

#include <optional>
#include <string>

#include <rapidjson/document.h>

#include "lucidctl/options.hpp"

namespace lucid::host::ctl {

// Adds `isolation` (when `mode` is given: in_process or process), `limits` (when a limit
// option is given) and `run_as` (--run-as, --run-as-agent) to `payload`; returns whether it
// added anything.
bool add_isolation_fields(const CtlOptions& options, const std::optional<std::string>& mode,
                          rapidjson::Document& payload);

}  // namespace lucid::host::ctl
