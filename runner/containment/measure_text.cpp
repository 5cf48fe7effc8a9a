#include "containment/measure_text.hpp"

#include <cstring>

namespace lucid::runner::containment {

std::string system_error_text(const std::string& call, int err) {
    // strerrordesc_np: thread-safe and never "Unknown error" for a known errno (glibc 2.32).
    const char* text = ::strerrordesc_np(err);
    return call + ": " + (text ? text : "error " + std::to_string(err));
}

}  // namespace lucid::runner::containment
