// Files installed beside the running executable (lucid-plugin-runner beside lucid-agent): found
// through /proc/self/exe, so that a build tree, /usr/bin and an unpacked .deb all work.
#pragma once

#include <filesystem>
#include <string_view>

namespace lucid::host {

// `name` in the directory of the running executable (/usr/bin when that cannot be read).
std::filesystem::path beside_own_executable(std::string_view name);

}  // namespace lucid::host
