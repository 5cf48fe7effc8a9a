// The ELF section reader on arbitrary files. It only reads from a path (no in-memory entry
// point), so each input is written to one temporary file first.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "install/elf_section_reader.hpp"
#include "install/plugin_manifest.hpp"

namespace {

const std::filesystem::path& input_path() {
    static const std::filesystem::path path = [] {
        // tmpfs when there is one: a disk-backed file costs most of the time of a run.
        const std::filesystem::path dir = std::filesystem::is_directory("/dev/shm")
                                              ? std::filesystem::path("/dev/shm")
                                              : std::filesystem::temp_directory_path();
        return dir / ("lucid-fuzz-elf-" + std::to_string(::getpid()) + ".so");
    }();
    return path;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace lucid::host;
    std::FILE* file = std::fopen(input_path().c_str(), "wb");
    if (file == nullptr) std::abort();
    if (size > 0 && std::fwrite(data, 1, size, file) != size) std::abort();
    std::fclose(file);

    ElfSectionResult section = read_elf_section(input_path(), ".lucid_manifest");
    if (section.contents.has_value() == !section.error.empty()) __builtin_trap();
    // As lucidctl reads it: any machine, so the section headers of both ELF classes are
    // parsed whatever this host is.
    ElfSectionResult any = read_elf_section(input_path(), ".lucid_manifest", ElfMachine::any);
    if (any.contents.has_value() == !any.error.empty()) __builtin_trap();
    (void)read_manifest(input_path());  // the same read followed by parse_manifest
    // Removed after every run: libFuzzer ends with _Exit, so an atexit hook would not run.
    std::filesystem::remove(input_path());
    return 0;
}
