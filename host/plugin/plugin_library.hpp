// Loading and unloading one plugin library (the "loader"), in this order:
//   1. read the manifest from the file (no plugin code runs) and check it: ABI major, dist and
//      version against the file name, component id (plugin_manifest.hpp);
//   2. dlopen through boost::dll::shared_library with rtld_now | rtld_local (unresolved symbols
//      fail here, not later inside a callback; symbols stay private to the plugin);
//   3. find lucid_plugin_entry, call it, check the descriptor's size and ABI, and copy it into
//      a zeroed descriptor of the host's size (fields an older plugin lacks stay NULL; the
//      extra fields of a newer plugin are ignored).
// unload() closes the library and then checks whether it really left the address space: a
// library that stays mapped (STB_GNU_UNIQUE symbols, a thread still running, another dlopen)
// cannot be replaced by a new version without restarting the agent.
//
// Thread: a PluginLibrary is used by one thread at a time. Errors: Expected, the text naming the
// file; nothing throws.
#pragma once

#include <lucid/plugin.h>

#include <filesystem>
#include <memory>
#include <string>

#include "common/expected.hpp"
#include "install/plugin_manifest.hpp"

namespace lucid::host {

class PluginLibrary {
  public:
    struct UnloadReport {
        bool unmapped = false;          // the library left the address space
        bool restart_required = false;  // !unmapped: only an agent restart frees it
    };

    // Steps 1-3 above. The error (Errc::invalid) names the file.
    static Expected<std::unique_ptr<PluginLibrary>> load(const std::filesystem::path& file);

    ~PluginLibrary();  // unloads when still loaded (without the report)
    PluginLibrary(const PluginLibrary&) = delete;
    PluginLibrary& operator=(const PluginLibrary&) = delete;

    const std::filesystem::path& path() const { return path_; }
    const PluginManifest& manifest() const { return manifest_; }
    // The plugin's descriptor copied into the host's layout. Its function pointers are valid
    // only until unload().
    const lucid_plugin_descriptor& descriptor() const { return descriptor_; }

    // Closes the library. Call only when no code of the plugin can run any more.
    UnloadReport unload();

    // True when a library with this path is mapped in the process (dlopen RTLD_NOLOAD).
    static bool is_mapped(const std::filesystem::path& file);

  private:
    PluginLibrary();
    struct Impl;
    std::unique_ptr<Impl> impl_;
    std::filesystem::path path_;
    PluginManifest manifest_;
    lucid_plugin_descriptor descriptor_{};
};

}  // namespace lucid::host
