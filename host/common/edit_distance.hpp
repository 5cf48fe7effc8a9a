// The edit distance between two words (insert, delete, substitute, or swap two neighbours; each
// costs 1: the optimal string alignment distance): how "did you mean" suggestions (lucidctl's
// commands, the env file's LUCID_* keys) find the nearest known word. Pure; thread-safe.
#pragma once

#include <cstddef>
#include <string_view>

namespace lucid::host {

std::size_t edit_distance(std::string_view a, std::string_view b);

}  // namespace lucid::host
