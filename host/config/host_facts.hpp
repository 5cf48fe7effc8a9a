// Facts about the machine the agent reports in core/metadata and uses for defaults.
// Thread: safe. Errors: none (unknown values become "unknown").
#pragma once

#include <optional>
#include <string>

namespace lucid::host::config {

std::string host_name();
std::string machine_arch();  // uname -m: x86_64, aarch64, armv7l...
bool running_as_root();
std::optional<std::string> getenv_string(const std::string& name);

}  // namespace lucid::host::config
