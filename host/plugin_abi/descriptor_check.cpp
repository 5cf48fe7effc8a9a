#include "plugin_abi/descriptor_check.hpp"

#include <algorithm>
#include <cstring>

namespace lucid::host::plugin_abi {

std::string check_descriptor(const lucid_plugin_descriptor* theirs, const std::string& where,
                             lucid_plugin_descriptor& out) {
    if (theirs == nullptr) return where + LUCID_PLUGIN_ENTRY_SYMBOL " returned NULL";
    // The first two fields are the same in every version: read them before trusting the size.
    if (LUCID_ABI_MAJOR_OF(theirs->abi_version) != LUCID_PLUGIN_ABI_MAJOR) {
        return where + "plugin ABI " + std::to_string(LUCID_ABI_MAJOR_OF(theirs->abi_version)) +
               "." + std::to_string(LUCID_ABI_MINOR_OF(theirs->abi_version)) +
               " is not supported; this host expects ABI " +
               std::to_string(LUCID_PLUGIN_ABI_MAJOR) + ".x";
    }
    if (theirs->struct_size < LUCID_PLUGIN_DESCRIPTOR_MIN_SIZE) {
        return where + "descriptor too small (" + std::to_string(theirs->struct_size) +
               " bytes, at least " + std::to_string(LUCID_PLUGIN_DESCRIPTOR_MIN_SIZE) +
               " expected)";
    }
    out = lucid_plugin_descriptor{};
    std::memcpy(&out, theirs,
                std::min<std::size_t>(theirs->struct_size, sizeof(lucid_plugin_descriptor)));
    out.struct_size = sizeof(lucid_plugin_descriptor);
    if (!out.create || !out.start || !out.stop || !out.destroy) {
        return where + "descriptor lacks create, start, stop or destroy";
    }
    return {};
}

}  // namespace lucid::host::plugin_abi
