// The version of this lucid-agent executable (self_update/build_version.hpp), also kept in the
// ELF section lucidctl reads without running the file (self_update/version_section.hpp).
#include "self_update/build_version.hpp"
#include "self_update/version_section.hpp"

namespace lucid::host::self_update {
namespace {

__attribute__((used, section(LUCID_AGENT_VERSION_SECTION))) const char kEmbeddedVersion[] =
    "lucid-agent " LUCID_AGENT_BUILD_VERSION;

}  // namespace

// Read through the section, so that a linker dropping unreferenced sections keeps it.
const char* build_version() { return kEmbeddedVersion + sizeof("lucid-agent ") - 1; }

}  // namespace lucid::host::self_update
