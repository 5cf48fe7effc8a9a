// The manifest a plugin embeds with LUCID_PLUGIN (lucid/plugin.h): dist name, version,
// component id and ABI version, read from the ELF section `.lucid_manifest` without loading
// the library, then checked against this host's ABI and the artifact's file name (contract §2, §5).
// Thread-safe; errors are returned, never thrown.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "common/expected.hpp"
#include "install/elf_section_reader.hpp"

namespace lucid::host {

struct PluginManifest {
    std::string dist_name;  // as written by the plugin (normalize before comparing)
    std::string version;
    std::string component_id;
    std::uint32_t abi_major = 0;
    std::uint32_t abi_minor = 0;

    std::string abi_string() const;  // "1.0"
};

struct ManifestResult {
    std::optional<PluginManifest> manifest;
    std::string error;          // names the file
    std::uint16_t machine = 0;  // the file's ELF machine (e_machine), once read

    bool ok() const { return error.empty(); }
};

// Parses the text of the section ("key=value" lines). Pure.
ManifestResult parse_manifest(std::string_view text);

// Reads and parses the manifest of `file` (ELF checks: elf_section_reader.hpp); `machine`: any,
// for an artifact lucidctl publishes for other devices.
ManifestResult read_manifest(const std::filesystem::path& file,
                             ElfMachine machine = ElfMachine::this_host);

// The artifact `file` built for ELF `machine` may be published under `platform_tag`: the tag's
// architecture (after "linux_") is the machine's, when the machine is one elf_machine_arch()
// knows. Else: "<file> is built for aarch64 (ELF machine 183), not for linux_x86_64".
Status check_platform(const std::filesystem::path& file, std::uint16_t machine,
                      const std::string& platform_tag);

// Everything that must hold before any code of `file` runs, or the first problem:
//   - the manifest's ABI major equals this host's:
//     "<file>: plugin ABI 2.0 is not supported; this host expects ABI 1.x"
//   - the file name parses as an artifact name and names the same dist and version:
//     "<file>: manifest says dist 'x' version '1.0.0' but the file name says 'y' '1.0.1'"
//   - the component id is a valid identifier.
Status check_manifest(const std::filesystem::path& file, const PluginManifest& manifest);

}  // namespace lucid::host
