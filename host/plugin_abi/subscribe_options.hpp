// How a host reads a plugin's lucid_subscribe_options (ABI 1.1), the same in the agent and in
// lucid-plugin-runner: only as far as the plugin's struct_size goes, since an older plugin's
// struct may lack the newer fields.
//
// Thread: pure. Errors: nullopt for a struct too small to hold its flags.
#pragma once

#include <lucid/plugin.h>

#include <cstddef>
#include <cstdint>
#include <optional>

namespace lucid::host::plugin_abi {

// The flags this host implements; any other makes subscribe_with() LUCID_ERR_UNSUPPORTED.
inline constexpr std::uint32_t kKnownSubscribeFlags = LUCID_SUBSCRIBE_DEDUP;

// NULL options: no flags (a plain subscribe).
inline std::optional<std::uint32_t> subscribe_flags(const lucid_subscribe_options* options) {
    if (!options) return 0u;
    if (options->struct_size < offsetof(lucid_subscribe_options, flags) + sizeof(options->flags)) {
        return std::nullopt;
    }
    return options->flags;
}

}  // namespace lucid::host::plugin_abi
