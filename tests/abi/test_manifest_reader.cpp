#include <doctest/doctest.h>

#include <elf.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "install/elf_section_reader.hpp"
#include "install/plugin_manifest.hpp"
#include "status_text.hpp"
#include "synthetic_elf.hpp"
#include "temp_dir.hpp"

namespace fs = std::filesystem;
using lucid::test::status_text;
using namespace lucid::host;
using lucid::test::TempDir;

namespace {

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}
void spit(const fs::path& p, const std::string& bytes) {
    std::ofstream(p, std::ios::binary) << bytes;
}

}  // namespace

TEST_CASE("reads the manifest of a built plugin without loading it") {
    ManifestResult r = read_manifest(LUCID_TEST_PLUGIN_GOOD);
    REQUIRE_MESSAGE(r.ok(), r.error);
    CHECK(r.manifest->dist_name == "lucid-test-good");
    CHECK(r.manifest->version == "1.0.0");
    CHECK(r.manifest->component_id == "good");
    CHECK(r.manifest->abi_string() == "1.1");
    CHECK(status_text(check_manifest(LUCID_TEST_PLUGIN_GOOD, *r.manifest)).empty());
    // One built against the 1.0 header says so, and a 1.1 host takes it all the same.
    ManifestResult old = read_manifest(LUCID_TEST_PLUGIN_ABI_1_0);
    REQUIRE_MESSAGE(old.ok(), old.error);
    CHECK(old.manifest->abi_string() == "1.0");
    CHECK(status_text(check_manifest(LUCID_TEST_PLUGIN_ABI_1_0, *old.manifest)).empty());
}

TEST_CASE("the example plugins carry their manifests and versioned file names") {
    ManifestResult cpu = read_manifest(LUCID_PLUGIN_CPU);
    REQUIRE_MESSAGE(cpu.ok(), cpu.error);
    CHECK(cpu.manifest->dist_name == "lucid-agent-cpu");
    CHECK(fs::path(LUCID_PLUGIN_CPU).filename().string().rfind("lucid_agent_cpu-1.0.0-linux_", 0) ==
          0);
    ManifestResult echo = read_manifest(LUCID_PLUGIN_ECHO);
    REQUIRE_MESSAGE(echo.ok(), echo.error);
    CHECK(echo.manifest->component_id == "echo");
}

TEST_CASE("every truncated copy of a plugin is refused with an error, never a crash") {
    TempDir dir;
    const std::string bytes = slurp(LUCID_TEST_PLUGIN_GOOD);
    REQUIRE(bytes.size() > 4096);
    // The section headers sit at the end of the file: cutting anywhere must be caught.
    for (std::size_t len :
         {std::size_t{0}, std::size_t{3}, std::size_t{20}, std::size_t{63}, std::size_t{64},
          std::size_t{1000}, bytes.size() / 2, bytes.size() - 100, bytes.size() - 1}) {
        fs::path cut = dir.path() / "lucid_test_good-1.0.0.so";
        spit(cut, bytes.substr(0, len));
        ManifestResult r = read_manifest(cut);
        INFO("length " << len << ": " << r.error);
        CHECK_FALSE(r.ok());
        CHECK(r.error.rfind(cut.string() + ": ", 0) == 0);
    }
    spit(dir.path() / "t.so", bytes.substr(0, 1000));
    CHECK(read_manifest(dir.path() / "t.so").error.find("truncated") != std::string::npos);
}

TEST_CASE("a file that is not ELF is refused as such") {
    TempDir dir;
    spit(dir.path() / "x-1.0.0.so", "#!/bin/sh\necho not a library\n");
    ManifestResult r = read_manifest(dir.path() / "x-1.0.0.so");
    CHECK_FALSE(r.ok());
    CHECK(r.error.find("not an ELF file") != std::string::npos);
    CHECK(read_manifest(dir.path() / "missing.so").error.find("cannot open") != std::string::npos);
}

TEST_CASE("a plugin built for another machine is refused naming both architectures") {
    TempDir dir;
    std::string bytes = slurp(LUCID_TEST_PLUGIN_GOOD);
    // e_machine sits at the same offset in both ELF classes.
    Elf64_Half other = host_elf_machine() == EM_RISCV ? EM_X86_64 : EM_RISCV;
    bytes.replace(offsetof(Elf64_Ehdr, e_machine), sizeof other,
                  reinterpret_cast<const char*>(&other), sizeof other);
    spit(dir.path() / "lucid_test_good-1.0.0.so", bytes);
    ManifestResult r = read_manifest(dir.path() / "lucid_test_good-1.0.0.so");
    CHECK(r.machine == other);
    CHECK(r.error == (dir.path() / "lucid_test_good-1.0.0.so").string() + ": plugin architecture " +
                         elf_machine_arch(other) + " does not match this agent (" +
                         host_elf_arch() + ")");
}

// A 64-bit agent meets a 32-bit ARM plugin (Debian armhf) and the other way round: the ELF
// class differs too, and the refusal still names both architectures.
TEST_CASE("another ELF class and machine is refused before its sections are read") {
    TempDir dir;
    const bool arm32_host = host_elf_machine() == EM_ARM;
    const auto bytes = lucid::test::synthetic_elf(
        arm32_host ? ELFCLASS64 : ELFCLASS32, arm32_host ? EM_AARCH64 : EM_ARM,
        {{".lucid_manifest", lucid::test::lucid_manifest_text("x", "1.0.0", "x")}});
    spit(dir.path() / "x-1.0.0.so", bytes);
    ManifestResult r = read_manifest(dir.path() / "x-1.0.0.so");
    CHECK(r.error == (dir.path() / "x-1.0.0.so").string() + ": plugin architecture " +
                         (arm32_host ? "aarch64" : "armv7l") + " does not match this agent (" +
                         host_elf_arch() + ")");
    // A machine no platform tag names, and a known one in the other class.
    spit(dir.path() / "y-1.0.0.so", lucid::test::synthetic_elf(ELFCLASS64, EM_SPARCV9, {}));
    CHECK(read_manifest(dir.path() / "y-1.0.0.so")
              .error.find("plugin architecture ELF machine " + std::to_string(EM_SPARCV9) +
                          " does not match this agent") != std::string::npos);
    spit(dir.path() / "z-1.0.0.so", lucid::test::synthetic_elf(ELFCLASS32, EM_X86_64, {}));
    CHECK(read_manifest(dir.path() / "z-1.0.0.so")
              .error.find("plugin architecture x86_64 (32-bit) does not match this agent") !=
          std::string::npos);
}

// lucidctl signs and publishes artifacts for any device: a 32-bit ARM plugin's manifest is
// read from its ELF32 section headers.
TEST_CASE("the manifest of a 32-bit plugin is read for any machine") {
    TempDir dir;
    spit(dir.path() / "arm_thing-2.1.0-linux_armv7l.so",
         lucid::test::synthetic_elf(
             ELFCLASS32, EM_ARM,
             {{".text", std::string(40, '\x01')},
              {".lucid_manifest", lucid::test::lucid_manifest_text("arm-thing", "2.1.0", "arm")}}));
    ManifestResult r =
        read_manifest(dir.path() / "arm_thing-2.1.0-linux_armv7l.so", ElfMachine::any);
    REQUIRE_MESSAGE(r.ok(), r.error);
    CHECK(r.machine == EM_ARM);
    CHECK(r.manifest->dist_name == "arm-thing");
    CHECK(r.manifest->version == "2.1.0");
    CHECK(r.manifest->component_id == "arm");
    CHECK(elf_machine_arch(r.machine) == "armv7l");
    CHECK(check_platform("f.so", r.machine, "linux_armv7l"));
    CHECK_FALSE(check_platform("f.so", r.machine, "linux_aarch64"));
}

TEST_CASE("a forged section size is refused before anything that large is allocated") {
    TempDir dir;
    std::string bytes = slurp(LUCID_TEST_PLUGIN_GOOD);
    Elf64_Ehdr header;
    std::memcpy(&header, bytes.data(), sizeof header);
    // The section-name table claims 2 GiB; the file is a few kilobytes.
    const std::size_t size_at =
        header.e_shoff + header.e_shstrndx * sizeof(Elf64_Shdr) + offsetof(Elf64_Shdr, sh_size);
    const std::uint64_t forged = 2ull << 30;
    std::memcpy(&bytes[size_at], &forged, sizeof forged);
    spit(dir.path() / "lucid_test_good-1.0.0.so", bytes);
    const auto r = read_manifest(dir.path() / "lucid_test_good-1.0.0.so");
    CHECK_FALSE(r.ok());
    CHECK(r.error.find("implausibly large") != std::string::npos);
}

TEST_CASE("a shared object without a manifest is not a lucid plugin") {
    ManifestResult r = read_manifest(LUCID_TEST_NOT_A_PLUGIN);
    CHECK(r.error.find("has no section .lucid_manifest") != std::string::npos);
}

TEST_CASE("a manifest that disagrees with the file name is refused") {
    TempDir dir;
    fs::path renamed = dir.path() / "lucid_test_good-2.0.0-linux_x86_64.so";
    fs::copy_file(LUCID_TEST_PLUGIN_GOOD, renamed);
    ManifestResult r = read_manifest(renamed);
    REQUIRE(r.ok());
    auto problem = status_text(check_manifest(renamed, *r.manifest));
    REQUIRE_FALSE(problem.empty());
    CHECK(problem.find("manifest says dist 'lucid-test-good' version '1.0.0'") !=
          std::string::npos);
}

TEST_CASE("manifest text is parsed strictly") {
    CHECK(parse_manifest("lucid-manifest=1\ndist=a\nversion=1\ncomponent=a\nabi=1.0\n").ok());
    CHECK_FALSE(parse_manifest("lucid-manifest=2\ndist=a\nversion=1\ncomponent=a\nabi=1.0\n").ok());
    CHECK_FALSE(parse_manifest("lucid-manifest=1\ndist=a\nversion=1\nabi=1.0\n").ok());
    CHECK_FALSE(parse_manifest("lucid-manifest=1\ndist=a\nversion=1\ncomponent=a\nabi=x\n").ok());
    CHECK_FALSE(parse_manifest("garbage").ok());
}
