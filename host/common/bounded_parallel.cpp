#include "common/bounded_parallel.hpp"

#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

namespace lucid::host {

void run_bounded(std::size_t count, std::size_t workers,
                 const std::function<void(std::size_t)>& work) {
    // Each thread takes the next index: a slow job never holds up the ones behind it.
    std::atomic<std::size_t> next{0};
    const auto drain = [&] {
        for (std::size_t i = next++; i < count; i = next++) work(i);
    };
    const std::size_t threads = std::min(std::max<std::size_t>(workers, 1), count);
    std::vector<std::thread> helpers;
    for (std::size_t t = 1; t < threads; ++t) helpers.emplace_back(drain);
    drain();
    for (auto& helper : helpers) helper.join();
}

std::size_t core_count() { return std::max(1u, std::thread::hardware_concurrency()); }

}  // namespace lucid::host
