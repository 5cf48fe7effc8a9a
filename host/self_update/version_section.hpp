// The version a build of the agent carries in its ELF section .lucid_agent_version
// ("lucid-agent 1.2.3", written by host/build_version.cpp): read from the file, without running
// it, so that lucidctl can name and sign a build for another machine (an arm64 build on an
// x86_64 laptop) as it does a plugin by its manifest.
//
// Thread: any. Errors: returned, starting with the file's path.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "common/expected.hpp"

#define LUCID_AGENT_VERSION_SECTION ".lucid_agent_version"

namespace lucid::host::self_update {

struct EmbeddedVersion {
    std::string version;
    std::uint16_t machine = 0;  // the build's ELF machine (e_machine)
};

// The version in `binary`'s section, a build for any machine. Errors: the ELF reader's ("<file>:
// not an ELF file", "…: has no section .lucid_agent_version", …), "<file>: .lucid_agent_version
// does not say 'lucid-agent <version>'".
Expected<EmbeddedVersion> embedded_version(const std::filesystem::path& binary);

}  // namespace lucid::host::self_update
