// The checks of a plugin's descriptor once its library is loaded, the same in the agent
// (plugin/plugin_library.cpp) and in lucid-plugin-runner: the ABI major version, the size, the
// mandatory callbacks; then an OBS-style copy into this host's descriptor struct.
//
// Thread: pure. Errors: the returned text (empty when the descriptor is usable), prefixed by
// `where` (the file).
#pragma once

#include <lucid/plugin.h>

#include <string>

namespace lucid::host::plugin_abi {

// `theirs` is what the entry point returned (may be NULL). On success `out` is the copy: a
// smaller (older) struct leaves the newer fields zero, a larger (newer) one is cut.
std::string check_descriptor(const lucid_plugin_descriptor* theirs, const std::string& where,
                             lucid_plugin_descriptor& out);

}  // namespace lucid::host::plugin_abi
