#include "lucidctl/rollout_view.hpp"

#include <algorithm>
#include <map>
#include <ostream>

namespace lucid::host::ctl {
namespace {

namespace state = rollout_agent;

constexpr std::size_t kBarWidth = 20;
// Beyond this many batches begun, the oldest ones are summed up on one line.
constexpr std::size_t kBatchLines = 8;
// Cursor to the first column of the line `n` lines up, then clear to the end of the screen.
std::string up_and_clear(std::size_t n) { return "\r\x1b[" + std::to_string(n) + "A\x1b[J"; }

// The states in the order the counts are shown.
const std::vector<const char*>& shown_states() {
    static const std::vector<const char*> states{state::kConverged, state::kFailed,
                                                 state::kTimeout,   state::kApplying,
                                                 state::kPending,   state::kSkipped};
    return states;
}

using Counts = std::map<std::string, std::size_t>;

Counts count_batch(const Rollout& r, const std::vector<std::string>& ids) {
    Counts counts;
    for (const auto& id : ids) {
        const auto it = r.agents.find(id);
        if (it != r.agents.end()) ++counts[it->second.state];
    }
    return counts;
}

// "4 converged, 1 failed" (only the states present; `all` shows every state, zeros too).
std::string counts_text(const Counts& counts, bool all) {
    std::string text;
    for (const char* s : shown_states()) {
        const auto it = counts.find(s);
        const std::size_t n = it == counts.end() ? 0 : it->second;
        if (n == 0 && !all) continue;
        text += (text.empty() ? "" : ", ") + std::to_string(n) + " " + s;
    }
    return text;
}

std::string pad(std::string text, std::size_t width) {
    if (text.size() < width) text.append(width - text.size(), ' ');
    return text;
}

std::size_t count_of(const Counts& counts, const char* state) {
    const auto it = counts.find(state);
    return it == counts.end() ? 0 : it->second;
}

// The bar of a batch: '#' converged, 'x' failed or timed out, '.' pending or skipped (settled
// for the batch: they do not hold it up), '-' still to settle.
std::string bar(const Counts& counts, std::size_t size, std::size_t width) {
    if (size == 0) return std::string(width, '-');
    const std::size_t ok = count_of(counts, state::kConverged);
    const std::size_t bad = count_of(counts, state::kFailed) + count_of(counts, state::kTimeout);
    const std::size_t other = count_of(counts, state::kPending) + count_of(counts, state::kSkipped);
    // Cumulative, so that the parts add up to the settled share whatever the rounding.
    const std::size_t a = width * ok / size;
    const std::size_t b = width * (ok + bad) / size;
    const std::size_t c = width * (ok + bad + other) / size;
    return std::string(a, '#') + std::string(b - a, 'x') + std::string(c - b, '.') +
           std::string(width - c, '-');
}

std::string batch_line(const Rollout& r, std::size_t b, std::size_t bar_width) {
    const auto& ids = r.batches[b];
    const Counts counts = count_batch(r, ids);
    const std::size_t busy = count_of(counts, state::kApplying) + count_of(counts, state::kWaiting);
    const std::string name = "batch " + std::to_string(b + 1) + "/" +
                             std::to_string(r.batches.size()) +
                             (b == 0 && r.canary > 0 ? " canary" : "");
    const std::string fraction =
        std::to_string(ids.size() - busy) + "/" + std::to_string(ids.size());
    return pad(name, 19) + "[" + bar(counts, ids.size(), bar_width) + "]  " + pad(fraction, 9) +
           counts_text(counts, false);
}

// Whether any agent of batch `b` was written (its batch has begun).
bool begun(const Rollout& r, std::size_t b) {
    if (b < r.next_batch) return true;
    for (const auto& id : r.batches[b]) {
        const auto it = r.agents.find(id);
        if (it != r.agents.end() && it->second.state != state::kWaiting) return true;
    }
    return false;
}

}  // namespace

std::vector<std::string> rollout_block(const Rollout& r, std::size_t width) {
    std::vector<std::string> lines;
    // A narrow terminal gets a shorter bar before it loses the counts.
    const std::size_t bar_width =
        width == 0 ? kBarWidth : std::clamp<std::size_t>(width > 56 ? width - 56 : 0, 5, kBarWidth);
    std::size_t first_begun = r.batches.size(), end_begun = 0;
    for (std::size_t b = 0; b < r.batches.size(); ++b) {
        if (!begun(r, b)) continue;
        first_begun = std::min(first_begun, b);
        end_begun = b + 1;
    }
    if (end_begun > first_begun + kBatchLines) {
        const std::size_t folded_end = end_begun - kBatchLines;
        std::vector<std::string> ids;
        for (std::size_t b = first_begun; b < folded_end; ++b) {
            ids.insert(ids.end(), r.batches[b].begin(), r.batches[b].end());
        }
        lines.push_back("batches 1-" + std::to_string(folded_end) + ": " +
                        counts_text(count_batch(r, ids), false));
        first_begun = folded_end;
    }
    for (std::size_t b = first_begun; b < end_begun; ++b) {
        lines.push_back(batch_line(r, b, bar_width));
    }
    std::size_t to_come = 0, agents_to_come = 0;
    for (std::size_t b = end_begun; b < r.batches.size(); ++b) {
        ++to_come;
        agents_to_come += r.batches[b].size();
    }
    if (to_come > 0) {
        lines.push_back(std::to_string(to_come) + " batch(es) not begun, " +
                        std::to_string(agents_to_come) + " agent(s)");
    }
    Counts all;
    for (const auto& [id, a] : r.agents) ++all[a.state];
    std::string totals = std::to_string(r.agents.size()) + " agent(s): " + counts_text(all, true);
    if (width > 0 && totals.size() > width) {
        totals = std::to_string(r.agents.size()) + " agent(s): " + counts_text(all, false);
    }
    lines.push_back(totals);
    if (width > 0) {
        for (auto& line : lines) {
            if (line.size() > width) line.resize(width);
        }
    }
    return lines;
}

void RolloutView::event(const std::string& line) {
    if (mode_ == Mode::quiet) return;
    if (mode_ == Mode::plain) {
        out_ << line << std::endl;
        return;
    }
    erase();
    out_ << line << "\n";
    draw();
}

void RolloutView::detail(const std::string& line) {
    if (mode_ == Mode::plain) out_ << line << std::endl;
}

void RolloutView::show(const Rollout& r) {
    if (mode_ != Mode::live) return;
    auto block = rollout_block(r, width_);
    if (block == block_ && drawn_ > 0) return;
    erase();
    block_ = std::move(block);
    draw();
}

void RolloutView::erase() {
    if (drawn_ > 0) out_ << up_and_clear(drawn_);
    drawn_ = 0;
}

void RolloutView::draw() {
    for (const auto& line : block_) out_ << line << "\n";
    drawn_ = block_.size();
    out_ << std::flush;
}

}  // namespace lucid::host::ctl
