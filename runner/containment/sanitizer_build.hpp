// Whether the including translation unit is built with a sanitizer that reserves terabytes of
// address space (ASan, TSan, MSan, HWASan): RLIMIT_AS would make it fail at once. The runner
// and the tests pass this as ContainmentRequest::sanitizer_build / !address_space_limit.
#pragma once

namespace lucid::runner {

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__) || defined(__SANITIZE_HWADDRESS__)
inline constexpr bool kSanitizerBuild = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
    __has_feature(memory_sanitizer) || __has_feature(hwaddress_sanitizer)
inline constexpr bool kSanitizerBuild = true;
#else
inline constexpr bool kSanitizerBuild = false;
#endif
#else
inline constexpr bool kSanitizerBuild = false;
#endif

}  // namespace lucid::runner
