// What `rollout start` and `rollout resume` show while they drive a rollout (contract §4.12).
//
// Not on a terminal: every step as a plain line (scripts and logs read them). On a terminal: a
// block kept at the bottom and redrawn in place, one bar per batch begun ('#' converged, 'x'
// failed or timed out, '.' pending or skipped, '-' to settle; shorter on a narrow terminal),
// the batches not begun on one line, and the totals:
//
//   batch 1/11 canary [####################]  1/1      1 converged
//   batch 2/11        [########xx----------]  5/10     4 converged, 1 failed, 5 applying
//   9 batch(es) not begun, 89 agent(s)
//   100 agent(s): 5 converged, 1 failed, 5 applying, 0 pending, 0 skipped
//
// while the lines that need a person (failures, timeouts, offline and skipped agents,
// rollbacks) scroll above it as they come; routine lines (an agent written, an agent
// converged) are left to the bars. With --json nothing is shown (the final state is printed).
//
// Thread: one thread.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "lucidctl/rollout_plan.hpp"

namespace lucid::host::ctl {

// The block for `r`, one string per line, at most `width` columns each (0: no limit).
std::vector<std::string> rollout_block(const Rollout& r, std::size_t width);

class RolloutView {
  public:
    enum class Mode { plain, live, quiet };
    RolloutView(std::ostream& out, Mode mode, std::size_t width = 0)
        : out_(out), mode_(mode), width_(width) {}
    RolloutView(const RolloutView&) = delete;
    RolloutView& operator=(const RolloutView&) = delete;

    // A line a person needs: plain, or above the block.
    void event(const std::string& line);
    // A routine line: plain mode only.
    void detail(const std::string& line);
    // Redraws the block (live mode) when what it says changed.
    void show(const Rollout& r);

  private:
    void erase();
    void draw();

    std::ostream& out_;
    Mode mode_;
    std::size_t width_;
    std::vector<std::string> block_;
    std::size_t drawn_ = 0;  // lines of the block on the screen now
};

}  // namespace lucid::host::ctl
