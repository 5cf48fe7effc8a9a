#include "containment/resource_limits.hpp"

#include <sys/resource.h>

#include <cerrno>
#include <limits>

#include "containment/measure_text.hpp"

namespace lucid::runner::containment {
namespace {

constexpr std::uint64_t kMiB = 1024 * 1024;

std::string set_limit(int resource, const char* name, rlim_t soft, rlim_t hard) {
    const rlimit limit{soft, hard};
    if (::setrlimit(resource, &limit) != 0) {
        return failed(system_error_text(std::string("setrlimit(") + name + ")", errno));
    }
    return kApplied;
}

// RLIM_INFINITY is the largest rlim_t: a value at or above it would mean "no limit".
bool fits_rlim(std::uint64_t value) { return value < static_cast<std::uint64_t>(RLIM_INFINITY); }

}  // namespace

std::string limit_memory(std::optional<std::uint64_t> memory_mb, bool address_space_limit) {
    if (!memory_mb) return kNotRequested;
    if (!address_space_limit) return unavailable("sanitizer build reserves address space");
    if (*memory_mb == 0 || *memory_mb > std::numeric_limits<std::uint64_t>::max() / kMiB ||
        !fits_rlim(*memory_mb * kMiB)) {
        return failed("memory_mb=" + std::to_string(*memory_mb) + " is out of range");
    }
    const auto bytes = static_cast<rlim_t>(*memory_mb * kMiB);
    const std::string address_space = set_limit(RLIMIT_AS, "RLIMIT_AS", bytes, bytes);
    if (address_space != kApplied) return address_space;
    return set_limit(RLIMIT_DATA, "RLIMIT_DATA", bytes, bytes);
}

std::string limit_open_files(std::optional<std::uint64_t> open_files) {
    if (!open_files) return kNotRequested;
    if (*open_files == 0 || !fits_rlim(*open_files)) {
        return failed("open_files=" + std::to_string(*open_files) + " is out of range");
    }
    const auto count = static_cast<rlim_t>(*open_files);
    return set_limit(RLIMIT_NOFILE, "RLIMIT_NOFILE", count, count);
}

std::string limit_cpu(std::optional<std::uint64_t> cpu_seconds) {
    if (!cpu_seconds) return kNotRequested;
    if (*cpu_seconds == 0 || !fits_rlim(*cpu_seconds) || !fits_rlim(*cpu_seconds + 1)) {
        return failed("cpu_seconds=" + std::to_string(*cpu_seconds) + " is out of range");
    }
    const auto seconds = static_cast<rlim_t>(*cpu_seconds);
    return set_limit(RLIMIT_CPU, "RLIMIT_CPU", seconds, seconds + 1);
}

}  // namespace lucid::runner::containment
