#include "self_update/version_section.hpp"

#include "install/elf_section_reader.hpp"
#include "self_update/version_probe.hpp"

namespace lucid::host::self_update {

Expected<EmbeddedVersion> embedded_version(const std::filesystem::path& binary) {
    const auto section = read_program_section(binary, LUCID_AGENT_VERSION_SECTION);
    if (!section.ok()) return Error{Errc::invalid, section.error};
    // The section is the C string with its terminating NUL.
    std::string text = *section.contents;
    text.resize(text.find('\0') == std::string::npos ? text.size() : text.find('\0'));
    const std::string version = printed_version(text + "\n");  // as --version prints it
    if (version.empty()) {
        return Error{Errc::invalid, binary.string() + ": " LUCID_AGENT_VERSION_SECTION
                                                      " does not say 'lucid-agent <version>'"};
    }
    return EmbeddedVersion{version, section.machine};
}

}  // namespace lucid::host::self_update
