// The version of this lucid-agent executable (self_update/build_version.hpp).
#include "self_update/build_version.hpp"

namespace lucid::host::self_update {

const char* build_version() { return LUCID_AGENT_BUILD_VERSION; }

}  // namespace lucid::host::self_update
