// A plugin built with a sanitizer the agent lacks is refused before it is loaded: dlopen'ed, its
// runtime would end the whole agent (README, "A plugin in ten lines"; contract §5.2).
#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "install/sanitizer_runtime.hpp"
#include "status_text.hpp"

using lucid::host::needed_libraries;
using lucid::host::sanitizer_refusal;
using lucid::host::Sanitizers;
using lucid::test::status_text;

namespace {

// One Elf64_Dyn entry, little-endian.
std::string dyn(std::uint64_t tag, std::uint64_t value) {
    std::string bytes;
    for (std::uint64_t v : {tag, value}) {
        for (int i = 0; i < 8; ++i) bytes.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
    }
    return bytes;
}

}  // namespace

TEST_CASE("DT_NEEDED names are read from .dynamic and .dynstr, bounds-checked") {
    const std::string dynstr = std::string("\0libasan.so.8\0libc.so.6\0unterminated", 36);
    const std::string dynamic = dyn(1, 1)                // libasan.so.8
                                + dyn(5, 0)              // DT_STRTAB: not a library
                                + dyn(1, 14)             // libc.so.6
                                + dyn(1, 9999)           // outside the table: skipped
                                + dyn(1, 24)             // runs off the table's end: skipped
                                + dyn(0, 0)              // DT_NULL ends the list
                                + dyn(1, 1)              // after the end: not read
                                + std::string(7, '\1');  // a partial entry: not read
    CHECK(needed_libraries(dynamic, dynstr) ==
          std::vector<std::string>{"libasan.so.8", "libc.so.6"});
    CHECK(needed_libraries("", dynstr).empty());
    CHECK(needed_libraries(dynamic, "").empty());
}

TEST_CASE("a sanitizer runtime the agent lacks is refused with the reason and the library") {
    const std::vector<std::string> asan{"libstdc++.so.6", "libasan.so.8", "libc.so.6"};
    CHECK(status_text(sanitizer_refusal(asan, Sanitizers{})) ==
          std::string("built with AddressSanitizer (needs libasan.so.8), which loads only into an "
                      "agent built with it: build the plugin without sanitizers"));
    CHECK(status_text(sanitizer_refusal(asan, Sanitizers{true, false, false})).empty());
    const auto tsan =
        status_text(sanitizer_refusal({"libtsan.so.2"}, Sanitizers{true, false, false}));
    REQUIRE_FALSE(tsan.empty());
    CHECK(tsan.rfind("built with ThreadSanitizer (needs libtsan.so.2)", 0) == 0);
    CHECK(status_text(sanitizer_refusal({"libtsan.so.2"}, Sanitizers{false, true, false})).empty());
    // UBSan alone is not refused: it does not need to be first in the process.
    CHECK(status_text(sanitizer_refusal({"libubsan.so.1", "libm.so.6"}, Sanitizers{})).empty());
}
