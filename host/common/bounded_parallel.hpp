// Runs `work(0) .. work(count - 1)` on at most `workers` threads (the caller's among them) and
// returns once every call returned. For independent jobs that wait on the disk or on another
// thread more than they compute: the boot's component starts.
//
//   run_bounded(entries.size(), cores, [&](std::size_t i) { start(entries[i]); });
//
// Thread: `work` runs concurrently with itself; it must not throw (an exception ends the
// process, as on any thread of the agent). workers 0 or 1: one at a time, in order, on the
// caller's thread.
#pragma once

#include <cstddef>
#include <functional>

namespace lucid::host {

void run_bounded(std::size_t count, std::size_t workers,
                 const std::function<void(std::size_t)>& work);

// The number of cores, at least 1 (std::thread::hardware_concurrency may not know).
std::size_t core_count();

}  // namespace lucid::host
