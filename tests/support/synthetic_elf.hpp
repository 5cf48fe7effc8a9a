// A minimal ELF shared object of any class and machine: a header, the section-name table and
// the given sections, no code. It is what another architecture's plugin looks like to the
// agent's reader (install/elf_section_reader.hpp), so the tests of the architecture check run
// on every machine without a cross compiler. Header-only; pure.
#pragma once

#include <elf.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

namespace lucid::test {

using ElfSections = std::vector<std::pair<std::string, std::string>>;  // name, contents

namespace synthetic_elf_detail {

template <typename Ehdr, typename Shdr>
std::string build(unsigned char elf_class, std::uint16_t machine, const ElfSections& sections) {
    std::string names(1, '\0');  // section 0 has the empty name
    std::vector<std::size_t> name_at;
    for (const auto& [name, contents] : sections) {
        name_at.push_back(names.size());
        names += name + '\0';
    }
    const std::size_t shstrtab_name = names.size();
    names += std::string(".shstrtab") + '\0';

    std::string out(sizeof(Ehdr), '\0');
    std::vector<Shdr> headers(1);  // the null section
    auto add = [&](std::size_t name, std::uint32_t type, const std::string& contents) {
        Shdr h{};
        h.sh_name = static_cast<std::uint32_t>(name);
        h.sh_type = type;
        h.sh_offset = static_cast<decltype(h.sh_offset)>(out.size());
        h.sh_size = static_cast<decltype(h.sh_size)>(contents.size());
        h.sh_addralign = 1;
        out += contents;
        headers.push_back(h);
    };
    for (std::size_t i = 0; i < sections.size(); ++i) {
        add(name_at[i], SHT_PROGBITS, sections[i].second);
    }
    add(shstrtab_name, SHT_STRTAB, names);
    out.resize((out.size() + 7) / 8 * 8, '\0');

    Ehdr e{};
    std::memcpy(e.e_ident, ELFMAG, SELFMAG);
    e.e_ident[EI_CLASS] = elf_class;
    e.e_ident[EI_DATA] = ELFDATA2LSB;
    e.e_ident[EI_VERSION] = EV_CURRENT;
    e.e_type = ET_DYN;
    e.e_machine = machine;
    e.e_version = EV_CURRENT;
    e.e_ehsize = sizeof(Ehdr);
    e.e_shoff = static_cast<decltype(e.e_shoff)>(out.size());
    e.e_shentsize = sizeof(Shdr);
    e.e_shnum = static_cast<std::uint16_t>(headers.size());
    e.e_shstrndx = static_cast<std::uint16_t>(headers.size() - 1);
    std::memcpy(out.data(), &e, sizeof e);
    out.append(reinterpret_cast<const char*>(headers.data()), headers.size() * sizeof(Shdr));
    return out;
}

}  // namespace synthetic_elf_detail

// `elf_class`: ELFCLASS32 or ELFCLASS64; `machine`: e.g. EM_ARM, EM_AARCH64.
inline std::string synthetic_elf(unsigned char elf_class, std::uint16_t machine,
                                 const ElfSections& sections) {
    if (elf_class == ELFCLASS32) {
        return synthetic_elf_detail::build<Elf32_Ehdr, Elf32_Shdr>(elf_class, machine, sections);
    }
    return synthetic_elf_detail::build<Elf64_Ehdr, Elf64_Shdr>(elf_class, machine, sections);
}

// The `.lucid_manifest` section lucid/plugin.h's LUCID_PLUGIN embeds.
inline std::string lucid_manifest_text(const std::string& dist, const std::string& version,
                                       const std::string& component) {
    return "lucid-manifest=1\ndist=" + dist + "\nversion=" + version + "\ncomponent=" + component +
           "\nabi=1.0\n" + '\0';
}

}  // namespace lucid::test
