// "Did you mean …?" for lucidctl's usage errors: the known word closest to a mistyped one.
// Pure; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/edit_distance.hpp"

namespace lucid::host::ctl {

// Insert, delete, substitute or swap two neighbours; each costs 1.
using lucid::host::edit_distance;

// The candidate nearest to `word`, when it is close enough to be a likely typo: at most 2 edits,
// and at most half of the word's length (so "x" suggests nothing).
// Example: nearest_word("stauts", {"status", "agents"}) == "status".
std::optional<std::string> nearest_word(std::string_view word,
                                        const std::vector<std::string>& candidates);

}  // namespace lucid::host::ctl
