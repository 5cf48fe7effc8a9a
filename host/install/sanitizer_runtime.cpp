#include "install/sanitizer_runtime.hpp"

#include <cstdint>
#include <cstring>

namespace lucid::host {

namespace {

constexpr std::uint64_t kDtNull = 0;
constexpr std::uint64_t kDtNeeded = 1;
constexpr std::size_t kDynEntrySize = 16;  // Elf64_Dyn: d_tag, d_val

std::uint64_t read_u64_le(const char* p) {
    std::uint64_t value = 0;
    for (int i = 7; i >= 0; --i) value = (value << 8) | static_cast<unsigned char>(p[i]);
    return value;
}

bool starts_with(std::string_view text, std::string_view prefix) {
    return text.substr(0, prefix.size()) == prefix;
}

}  // namespace

std::vector<std::string> needed_libraries(std::string_view dynamic, std::string_view dynstr) {
    std::vector<std::string> needed;
    for (std::size_t at = 0; at + kDynEntrySize <= dynamic.size(); at += kDynEntrySize) {
        const std::uint64_t tag = read_u64_le(dynamic.data() + at);
        if (tag == kDtNull) break;
        if (tag != kDtNeeded) continue;
        const std::uint64_t offset = read_u64_le(dynamic.data() + at + 8);
        if (offset >= dynstr.size()) continue;
        const std::string_view rest = dynstr.substr(offset);
        const auto end = rest.find('\0');
        if (end == std::string_view::npos) continue;  // not terminated inside the table
        needed.emplace_back(rest.substr(0, end));
    }
    return needed;
}

Sanitizers this_process_sanitizers() {
    Sanitizers s;
#if defined(__SANITIZE_ADDRESS__)
    s.address = true;
#endif
#if defined(__SANITIZE_THREAD__)
    s.thread = true;
#endif
#if defined(__SANITIZE_HWADDRESS__)
    s.hwaddress = true;
#endif
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
    s.address = true;
#endif
#if __has_feature(thread_sanitizer)
    s.thread = true;
#endif
#if __has_feature(hwaddress_sanitizer)
    s.hwaddress = true;
#endif
#endif
    return s;
}

Status sanitizer_refusal(const std::vector<std::string>& needed, const Sanitizers& process) {
    struct Runtime {
        std::string_view prefix;
        const char* name;
        bool present;
    };
    const Runtime runtimes[] = {{"libasan.so", "AddressSanitizer", process.address},
                                {"libtsan.so", "ThreadSanitizer", process.thread},
                                {"libhwasan.so", "HWAddressSanitizer", process.hwaddress}};
    for (const auto& library : needed) {
        for (const auto& runtime : runtimes) {
            if (runtime.present || !starts_with(library, runtime.prefix)) continue;
            return Error{
                Errc::invalid,
                std::string("built with ") + runtime.name + " (needs " + library +
                    "), which loads only into an agent built with it: build the plugin without "
                    "sanitizers"};
        }
    }
    return done();
}

}  // namespace lucid::host
