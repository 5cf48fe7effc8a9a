// Reads one named section of an ELF shared object (32- or 64-bit, little-endian) with plain
// file reads: no dlopen, no code of the file runs. Used to read a plugin's manifest before
// deciding to load it (contract §5.2), and to refuse another architecture's plugin before it
// reaches dlopen or a plugin runner.
//
// Every offset and size read from the file is bounds-checked against the file size, so a
// truncated or hostile file yields an error, never a crash. Thread-safe (no shared state).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace lucid::host {

struct ElfSectionResult {
    std::optional<std::string> contents;  // the section's bytes, when found
    std::string error;                    // when not: why, naming the file
    std::uint16_t machine = 0;            // e_machine, once the header was read

    bool ok() const { return error.empty(); }
};

// The ELF machine (e_machine) of this host, e.g. EM_X86_64 (62), EM_AARCH64 (183), EM_ARM (40).
std::uint16_t host_elf_machine();

// Whose files are read: the agent loads only this host's; lucidctl reads the manifest of an
// artifact for any machine (an aarch64 plugin published from an x86_64 laptop).
enum class ElfMachine { this_host, any };

// The platform tag's architecture an ELF machine is, e.g. EM_AARCH64 → "aarch64", EM_ARM →
// "armv7l" (Debian armhf); "" when this table does not know it.
std::string elf_machine_arch(std::uint16_t machine);

// The architecture of this agent's own build, as elf_machine_arch() names it ("x86_64").
std::string host_elf_arch();

// Errors (all messages start with the file's path):
//   "not an ELF file", "not a little-endian ELF file", "not a 32-bit or 64-bit ELF file",
//   "truncated ELF file (...)", "not a shared object",
//   "plugin architecture aarch64 does not match this agent (x86_64)" (an unknown machine is
//   named "ELF machine N"; a known one in the other ELF class "x86_64 (32-bit)"),
//   "has no section <name>", "cannot open: <reason>".
// A missing section is an error too; `contents` is set only when it was found.
ElfSectionResult read_elf_section(const std::filesystem::path& file, const std::string& name,
                                  ElfMachine machine = ElfMachine::this_host);

// read_elf_section of an executable (ET_EXEC or a PIE) for any machine: a build of the agent,
// whose version section lucidctl reads (self_update/build_version.hpp). "not an executable"
// instead of "not a shared object".
ElfSectionResult read_program_section(const std::filesystem::path& file, const std::string& name);

// "" when `file` is an ELF executable (or position-independent executable) for this machine,
// else why, starting with the file's path: the header errors above, "not an executable", or
// "agent build architecture aarch64 does not match this agent (x86_64)". For a build of the
// agent itself (contract §4.16), before it is run.
std::string check_elf_program(const std::filesystem::path& file);

}  // namespace lucid::host
