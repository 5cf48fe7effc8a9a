// The version this lucid-agent executable was linked with. Defined by the executable's own
// host/build_version.cpp, not by a library: the same objects relinked with another
// LUCID_AGENT_BUILD_VERSION are another build of the agent (how the self-update tests make a
// newer build, tests/integration/CMakeLists.txt).
#pragma once

namespace lucid::host::self_update {

const char* build_version();

}  // namespace lucid::host::self_update
