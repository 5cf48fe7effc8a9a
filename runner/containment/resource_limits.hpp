// Resource limits per component ("limits": {"memory_mb", "open_files", "cpu_seconds"}), as
// rlimits: hard limits equal to the soft ones (or one second above, for the CPU), so the plugin
// cannot raise them again.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace lucid::runner::containment {

// RLIMIT_AS and RLIMIT_DATA; "unavailable: sanitizer build reserves address space" when
// address_space_limit is false.
std::string limit_memory(std::optional<std::uint64_t> memory_mb, bool address_space_limit);
// RLIMIT_NOFILE.
std::string limit_open_files(std::optional<std::uint64_t> open_files);
// RLIMIT_CPU, soft N and hard N + 1: SIGXCPU at N seconds, SIGKILL a second later.
std::string limit_cpu(std::optional<std::uint64_t> cpu_seconds);

}  // namespace lucid::runner::containment
