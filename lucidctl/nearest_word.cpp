#include "lucidctl/nearest_word.hpp"

#include <algorithm>
#include <numeric>

namespace lucid::host::ctl {

std::optional<std::string> nearest_word(std::string_view word,
                                        const std::vector<std::string>& candidates) {
    std::optional<std::string> best;
    std::size_t best_distance = 0;
    for (const auto& candidate : candidates) {
        const std::size_t d = edit_distance(word, candidate);
        if (!best || d < best_distance) {
            best = candidate;
            best_distance = d;
        }
    }
    if (!best || best_distance == 0 || best_distance > 2 || best_distance > word.size() / 2) {
        return std::nullopt;
    }
    return best;
}

}  // namespace lucid::host::ctl
