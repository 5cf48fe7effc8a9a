// A plugin built with AddressSanitizer or ThreadSanitizer needs that runtime first in the
// process: dlopen'ed into an agent built without it, the runtime ends the whole agent at once
// ("ASan runtime does not come first in initial library list") — one bad file would take the
// device offline. So the plugin's DT_NEEDED list is read before anything of it is loaded, and
// such a plugin is refused with a reason, unless this process carries the same runtime.
//
// Pure functions over the raw `.dynamic` and `.dynstr` section bytes (ELF64 little-endian, as
// elf_section_reader.hpp accepts); every offset is bounds-checked. Thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/expected.hpp"

namespace lucid::host {

// The DT_NEEDED library names, in order; entries pointing outside `dynstr` are skipped.
std::vector<std::string> needed_libraries(std::string_view dynamic, std::string_view dynstr);

struct Sanitizers {
    bool address = false;
    bool thread = false;
    bool hwaddress = false;
};
// What this binary was built with.
Sanitizers this_process_sanitizers();

// Why a plugin needing `needed` cannot load into a process built with `process`; nullopt when
// it can. E.g. "built with AddressSanitizer (needs libasan.so.8), which loads only into an
// agent built with it: build the plugin without sanitizers".
Status sanitizer_refusal(const std::vector<std::string>& needed, const Sanitizers& process);

}  // namespace lucid::host
