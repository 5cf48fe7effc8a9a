#include "install/plugin_manifest.hpp"

#include <lucid/plugin.h>

#include <map>
#include <stdexcept>

#include "install/elf_section_reader.hpp"
#include "install/sanitizer_runtime.hpp"
#include "lucid/registry/dist_name.hpp"
#include "lucid/registry/identifiers.hpp"

namespace lucid::host {

namespace {

bool parse_uint(std::string_view text, std::uint32_t& out) {
    if (text.empty() || text.size() > 5) return false;
    std::uint32_t value = 0;
    for (char c : text) {
        if (c < '0' || c > '9') return false;
        value = value * 10 + static_cast<std::uint32_t>(c - '0');
    }
    out = value;
    return true;
}

ManifestResult malformed(const std::string& why) {
    return ManifestResult{std::nullopt, "malformed plugin manifest: " + why};
}

}  // namespace

std::string PluginManifest::abi_string() const {
    return std::to_string(abi_major) + "." + std::to_string(abi_minor);
}

ManifestResult parse_manifest(std::string_view text) {
    // The section is a C string; a compiler may pad it with NULs.
    text = text.substr(0, text.find('\0'));
    std::map<std::string, std::string, std::less<>> fields;
    while (!text.empty()) {
        auto end = text.find('\n');
        std::string_view line = text.substr(0, end);
        text.remove_prefix(end == text.npos ? text.size() : end + 1);
        if (line.empty()) continue;
        auto eq = line.find('=');
        if (eq == line.npos) return malformed("line without '=': " + std::string(line));
        fields[std::string(line.substr(0, eq))] = std::string(line.substr(eq + 1));
    }
    if (fields["lucid-manifest"] != "1") {
        return malformed("unknown manifest format '" + fields["lucid-manifest"] + "'");
    }
    PluginManifest m;
    m.dist_name = fields["dist"];
    m.version = fields["version"];
    m.component_id = fields["component"];
    for (const char* key : {"dist", "version", "component"}) {
        if (fields[key].empty()) return malformed(std::string("missing ") + key);
    }
    const std::string& abi = fields["abi"];
    auto dot = abi.find('.');
    if (dot == abi.npos || !parse_uint(std::string_view(abi).substr(0, dot), m.abi_major) ||
        !parse_uint(std::string_view(abi).substr(dot + 1), m.abi_minor)) {
        return malformed("bad abi '" + abi + "'");
    }
    return ManifestResult{std::move(m), {}};
}

ManifestResult read_manifest(const std::filesystem::path& file, ElfMachine machine) {
    ElfSectionResult section = read_elf_section(file, LUCID_PLUGIN_MANIFEST_SECTION, machine);
    if (!section.ok()) {
        return ManifestResult{std::nullopt, section.error, section.machine};
    }
    ManifestResult parsed = parse_manifest(*section.contents);
    parsed.machine = section.machine;
    if (!parsed.ok()) {
        parsed.error = file.string() + ": " + parsed.error;
        return parsed;
    }
    // Before anything of it is loaded: a sanitizer runtime it needs would end the agent.
    const ElfSectionResult dynamic = read_elf_section(file, ".dynamic", machine);
    const ElfSectionResult dynstr = read_elf_section(file, ".dynstr", machine);
    if (dynamic.contents && dynstr.contents) {
        if (Status loadable = sanitizer_refusal(
                needed_libraries(*dynamic.contents, *dynstr.contents), this_process_sanitizers());
            !loadable) {
            return ManifestResult{std::nullopt, file.string() + ": " + loadable.error().message,
                                  section.machine};
        }
    }
    return parsed;
}

Status check_platform(const std::filesystem::path& file, std::uint16_t machine,
                      const std::string& platform_tag) {
    const std::string arch = elf_machine_arch(machine);
    if (arch.empty() || platform_tag == "linux_" + arch) return done();
    return Error{Errc::invalid, file.string() + " is built for " + arch + " (ELF machine " +
                                    std::to_string(machine) + "), not for " + platform_tag};
}

Status check_manifest(const std::filesystem::path& file, const PluginManifest& manifest) {
    const std::string where = file.string() + ": ";
    if (manifest.abi_major != LUCID_PLUGIN_ABI_MAJOR) {
        return Error{Errc::invalid, where + "plugin ABI " + manifest.abi_string() +
                                        " is not supported; this host expects ABI " +
                                        std::to_string(LUCID_PLUGIN_ABI_MAJOR) + ".x"};
    }
    if (auto bad = registry::identifier_error("component_id", manifest.component_id)) {
        return Error{Errc::invalid, where + *bad};
    }
    registry::ArtifactName name;
    try {
        name = registry::parse_artifact_name(file.string());
    } catch (const std::invalid_argument& e) {
        return Error{Errc::invalid, std::string(e.what())};
    }
    if (registry::normalize_dist_name(manifest.dist_name) != name.dist_name ||
        manifest.version != name.version) {
        return Error{Errc::invalid, where + "manifest says dist '" + manifest.dist_name +
                                        "' version '" + manifest.version +
                                        "' but the file name says '" + name.dist_name + "' '" +
                                        name.version + "'"};
    }
    return done();
}

}  // namespace lucid::host
