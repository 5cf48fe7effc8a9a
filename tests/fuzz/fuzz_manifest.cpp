// The text of a plugin's .lucid_manifest section (attacker-controlled: it comes from the file).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "install/plugin_manifest.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace lucid::host;
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    ManifestResult result = parse_manifest(text);
    if (result.manifest.has_value() == !result.error.empty()) __builtin_trap();
    if (result.ok()) {
        (void)result.manifest->abi_string();
        (void)check_manifest("/plugins/x-1.0.0.so", *result.manifest);
    }
    return 0;
}
