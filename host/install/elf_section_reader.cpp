#include "install/elf_section_reader.hpp"

#include <elf.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <fstream>
#include <vector>

namespace lucid::host {
namespace {

// The manifest and the section-name table are a few hundred bytes in any real plugin.
constexpr std::uint64_t kMaxSectionBytes = 1u << 20;

// The ELF class of this agent's own build: a 32-bit agent (armhf) loads ELF32 plugins only.
constexpr unsigned char kHostClass = sizeof(void*) == 8 ? ELFCLASS64 : ELFCLASS32;

class ElfFile {
  public:
    explicit ElfFile(const std::filesystem::path& path) : in_(path, std::ios::binary) {
        if (in_) {
            in_.seekg(0, std::ios::end);
            size_ = static_cast<std::uint64_t>(in_.tellg());
        }
    }
    bool is_open() const { return static_cast<bool>(in_); }
    std::uint64_t size() const { return size_; }

    // Reads `length` bytes at `offset`; false when they are not all inside the file.
    bool read(std::uint64_t offset, void* out, std::uint64_t length) {
        if (offset > size_ || length > size_ - offset) return false;
        in_.seekg(static_cast<std::streamoff>(offset));
        in_.read(static_cast<char*>(out), static_cast<std::streamsize>(length));
        return static_cast<bool>(in_);
    }

  private:
    std::ifstream in_;
    std::uint64_t size_ = 0;
};

// What an architecture mismatch calls a file's architecture: the platform tag's name, and the
// class when it is not the one that name implies.
std::string arch_of(std::uint16_t machine, unsigned char elf_class) {
    const std::string arch = elf_machine_arch(machine);
    if (arch.empty()) return "ELF machine " + std::to_string(machine);
    const bool wide = arch == "x86_64" || arch == "aarch64" || arch == "riscv64";
    if (wide != (elf_class == ELFCLASS64)) {
        return arch + (elf_class == ELFCLASS64 ? " (64-bit)" : " (32-bit)");
    }
    return arch;
}

// What the ELF header says, as far as every reader here needs it.
struct Header {
    std::string error;  // without the file's name
    unsigned char elf_class = 0;
    std::uint16_t type = 0;
    std::uint16_t machine = 0;
};

Header read_header(ElfFile& elf) {
    Header h;
    if (!elf.is_open()) {
        h.error = std::string("cannot open: ") + std::strerror(errno);
        return h;
    }
    unsigned char ident[EI_NIDENT] = {};
    if (!elf.read(0, ident, sizeof ident) || std::memcmp(ident, ELFMAG, SELFMAG) != 0) {
        h.error = "not an ELF file";
        return h;
    }
    h.elf_class = ident[EI_CLASS];
    if (h.elf_class != ELFCLASS32 && h.elf_class != ELFCLASS64) {
        h.error = "not a 32-bit or 64-bit ELF file";
        return h;
    }
    // Every machine lucid runs on is little-endian; the fields below are read as such.
    if (ident[EI_DATA] != ELFDATA2LSB) {
        h.error = "not a little-endian ELF file";
        return h;
    }
    // e_type and e_machine sit at the same offsets in both classes.
    std::uint16_t type_and_machine[2] = {};
    if (!elf.read(offsetof(Elf64_Ehdr, e_type), type_and_machine, sizeof type_and_machine)) {
        h.error = "truncated ELF file (header)";
        return h;
    }
    static_assert(offsetof(Elf32_Ehdr, e_machine) == offsetof(Elf64_Ehdr, e_machine));
    static_assert(offsetof(Elf64_Ehdr, e_machine) == offsetof(Elf64_Ehdr, e_type) + 2);
    h.type = type_and_machine[0];
    h.machine = type_and_machine[1];
    return h;
}

// The section headers of both classes, read into the 64-bit form (every 32-bit field fits).
template <typename Ehdr, typename Shdr>
ElfSectionResult find_section(ElfFile& elf, const std::string& name, const std::string& where,
                              std::uint16_t seen_machine) {
    auto fail = [&](const std::string& why) {
        return ElfSectionResult{std::nullopt, where + why, seen_machine};
    };
    Ehdr header;
    if (!elf.read(0, &header, sizeof header)) return fail("truncated ELF file (header)");
    if (header.e_shoff == 0 || header.e_shnum == 0 || header.e_shentsize != sizeof(Shdr) ||
        header.e_shstrndx >= header.e_shnum) {
        return fail("has no usable section header table");
    }

    // e_shnum is 16 bits: at most 64 KiB sections of 64 bytes, a bounded allocation.
    std::vector<Shdr> sections(header.e_shnum);
    if (!elf.read(header.e_shoff, sections.data(), sections.size() * sizeof(Shdr))) {
        return fail("truncated ELF file (section headers)");
    }
    const Shdr& names = sections[header.e_shstrndx];
    // Sizes come from the file: bound them before allocating, or a forged header would make
    // the agent allocate gigabytes before noticing the file is not that long.
    if (names.sh_size > kMaxSectionBytes) return fail("section name table is implausibly large");
    std::vector<char> strtab(names.sh_size + 1, '\0');  // +1: a NUL even if the table lacks one
    if (!elf.read(names.sh_offset, strtab.data(), names.sh_size)) {
        return fail("truncated ELF file (section names)");
    }

    for (const Shdr& section : sections) {
        if (section.sh_name >= names.sh_size) continue;
        if (name != &strtab[section.sh_name]) continue;
        if (section.sh_type == SHT_NOBITS) return fail("section " + name + " has no contents");
        if (section.sh_size > kMaxSectionBytes) {
            return fail("section " + name + " is implausibly large");
        }
        std::string contents(section.sh_size, '\0');
        if (!elf.read(section.sh_offset, contents.data(), section.sh_size)) {
            return fail("truncated ELF file (section " + name + ")");
        }
        return ElfSectionResult{std::move(contents), {}, seen_machine};
    }
    return fail("has no section " + name);
}

}  // namespace

std::uint16_t host_elf_machine() {
#if defined(__x86_64__)
    return EM_X86_64;
#elif defined(__aarch64__)
    return EM_AARCH64;
#elif defined(__arm__)
    return EM_ARM;
#elif defined(__riscv) && __riscv_xlen == 64
    return EM_RISCV;
#else
#error "unknown ELF machine for this host"
#endif
}

std::string elf_machine_arch(std::uint16_t machine) {
    switch (machine) {
        case EM_X86_64:
            return "x86_64";
        case EM_AARCH64:
            return "aarch64";
        case EM_ARM:
            // Debian armhf (ARMv7, hard float), what `uname -m` says on such a device.
            return "armv7l";
        case EM_RISCV:
            return "riscv64";
        default:
            return "";
    }
}

std::string host_elf_arch() { return arch_of(host_elf_machine(), kHostClass); }

namespace {

ElfSectionResult read_section_of(const std::filesystem::path& file, const std::string& name,
                                 ElfMachine machine, bool executable) {
    const std::string where = file.string() + ": ";
    std::uint16_t seen_machine = 0;
    auto fail = [&](const std::string& why) {
        return ElfSectionResult{std::nullopt, where + why, seen_machine};
    };

    ElfFile elf(file);
    const Header header = read_header(elf);
    if (!header.error.empty()) return fail(header.error);
    const unsigned char elf_class = header.elf_class;
    if (executable) {
        if (header.type != ET_EXEC && header.type != ET_DYN) return fail("not an executable");
    } else if (header.type != ET_DYN) {
        return fail("not a shared object");
    }
    seen_machine = header.machine;
    // Before dlopen or a runner sees it: the loader's own refusal ("wrong ELF class") names
    // neither architecture, and a runner would only die on it.
    if (machine == ElfMachine::this_host &&
        (seen_machine != host_elf_machine() || elf_class != kHostClass)) {
        return fail("plugin architecture " + arch_of(seen_machine, elf_class) +
                    " does not match this agent (" + host_elf_arch() + ")");
    }
    if (elf_class == ELFCLASS64) {
        return find_section<Elf64_Ehdr, Elf64_Shdr>(elf, name, where, seen_machine);
    }
    return find_section<Elf32_Ehdr, Elf32_Shdr>(elf, name, where, seen_machine);
}

}  // namespace

ElfSectionResult read_elf_section(const std::filesystem::path& file, const std::string& name,
                                  ElfMachine machine) {
    return read_section_of(file, name, machine, false);
}

ElfSectionResult read_program_section(const std::filesystem::path& file, const std::string& name) {
    return read_section_of(file, name, ElfMachine::any, true);
}

std::string check_elf_program(const std::filesystem::path& file) {
    ElfFile elf(file);
    const Header header = read_header(elf);
    const std::string where = file.string() + ": ";
    if (!header.error.empty()) return where + header.error;
    // A position-independent executable is ET_DYN like a shared object; running it with
    // --version (self_update/) tells them apart.
    if (header.type != ET_EXEC && header.type != ET_DYN) return where + "not an executable";
    if (header.machine != host_elf_machine() || header.elf_class != kHostClass) {
        return where + "agent build architecture " + arch_of(header.machine, header.elf_class) +
               " does not match this agent (" + host_elf_arch() + ")";
    }
    return "";
}

}  // namespace lucid::host
