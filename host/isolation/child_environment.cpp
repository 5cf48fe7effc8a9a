#include "isolation/child_environment.hpp"

#include <array>
#include <string_view>

namespace lucid::host::isolation {
namespace {

bool kept(std::string_view name) {
    static constexpr std::array<std::string_view, 10> kNames{
        "PATH",         "LANG",          "LANGUAGE",     "TZ",           "LD_LIBRARY_PATH",
        "ASAN_OPTIONS", "UBSAN_OPTIONS", "TSAN_OPTIONS", "LSAN_OPTIONS", "MSAN_OPTIONS"};
    for (std::string_view k : kNames) {
        if (name == k) return true;
    }
    return name.substr(0, 3) == "LC_";
}

}  // namespace

std::vector<std::string> child_environment(const char* const* environment) {
    std::vector<std::string> out;
    for (const char* const* e = environment; e && *e; ++e) {
        const std::string_view entry(*e);
        const auto eq = entry.find('=');
        if (eq != std::string_view::npos && kept(entry.substr(0, eq))) out.emplace_back(entry);
    }
    return out;
}

}  // namespace lucid::host::isolation
