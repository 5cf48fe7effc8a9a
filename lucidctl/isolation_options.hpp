// The isolation options of `plugin install` and `plugin isolate` (README "Process isolation"):
// --isolation MODE (install) or the MODE word (isolate), and --memory-mb, --open-files,
// --cpu-seconds, as the payload's `isolation` and `limits` (contract §4.1, §4.13).
//
// Thread: one. Errors: UsageError naming the option.
#pragma once

#include <optional>
#include <string>

#include <rapidjson/document.h>

#include "lucidctl/options.hpp"

namespace lucid::host::ctl {

// Adds `isolation` (when `mode` is given: in_process or process) and `limits` (when a limit
// option is given) to `payload`; returns whether it added anything.
bool add_isolation_fields(const CtlOptions& options, const std::optional<std::string>& mode,
                          rapidjson::Document& payload);

}  // namespace lucid::host::ctl
