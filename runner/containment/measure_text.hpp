// The result texts of a measure (see containment.hpp), built in one place so every measure
// words them alike.
#pragma once

#include <string>

namespace lucid::runner::containment {

inline const std::string kApplied = "applied";
inline const std::string kNotRequested = "not requested";

inline std::string failed(const std::string& why) { return "failed: " + why; }
inline std::string unavailable(const std::string& why) { return "unavailable: " + why; }

// "<call>: <strerror(err)>", e.g. "setpgid: Operation not permitted".
std::string system_error_text(const std::string& call, int err);

}  // namespace lucid::runner::containment
