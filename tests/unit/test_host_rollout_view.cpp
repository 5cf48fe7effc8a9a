// The rollout's live view (lucidctl/rollout_view.hpp): the block of bars drawn from a rollout's
// state, and what each mode writes.
#include <doctest/doctest.h>

#include <sstream>

#include "lucidctl/rollout_view.hpp"

using namespace lucid::host::ctl;

namespace {

// Canary a1, batch a2..a4 under way (a2 converged, a3 failed, a4 applying), batch a5..a6 to come.
Rollout sample() {
    Rollout r;
    r.canary = 1;
    r.batches = {{"a1"}, {"a2", "a3", "a4"}, {"a5", "a6"}};
    r.next_batch = 1;
    const std::vector<std::pair<std::string, std::string>> states{
        {"a1", "converged"}, {"a2", "converged"}, {"a3", "failed"},
        {"a4", "applying"},  {"a5", "waiting"},   {"a6", "waiting"}};
    for (std::size_t i = 0; i < states.size(); ++i) {
        r.agents[states[i].first].state = states[i].second;
        r.agents[states[i].first].batch = i == 0 ? 0 : i < 4 ? 1 : 2;
    }
    return r;
}

}  // namespace

TEST_CASE("the block: a bar per batch begun, the batches to come, the totals") {
    const auto block = rollout_block(sample(), 0);
    REQUIRE(block.size() == 4);
    CHECK(block[0] == "batch 1/3 canary   [####################]  1/1      1 converged");
    CHECK(block[1] ==
          "batch 2/3          [######xxxxxxx-------]  2/3      1 converged, 1 failed, 1 applying");
    CHECK(block[2] == "1 batch(es) not begun, 2 agent(s)");
    CHECK(block[3] ==
          "6 agent(s): 2 converged, 1 failed, 0 timeout, 1 applying, 0 pending, 0 skipped");
    for (const auto& line : rollout_block(sample(), 30)) CHECK(line.size() <= 30);
    // 60 columns: a shorter bar, and the totals without the zeros.
    const auto narrow = rollout_block(sample(), 60);
    CHECK(narrow[1].rfind("batch 2/3          [", 0) == 0);
    CHECK(narrow[1].find("[#xx--]") != std::string::npos);
    CHECK(narrow[3] == "6 agent(s): 2 converged, 1 failed, 1 applying");
}

TEST_CASE("many batches: the oldest are summed up on one line") {
    Rollout r;
    for (int b = 0; b < 12; ++b) {
        const std::string id = "x" + std::to_string(b);
        r.batches.push_back({id});
        r.agents[id].state = "converged";
    }
    r.next_batch = 12;
    const auto block = rollout_block(r, 0);
    REQUIRE(block.size() == 10);  // 1 summed up, 8 bars, the totals
    CHECK(block[0] == "batches 1-4: 4 converged");
    CHECK(block[1].rfind("batch 5/12", 0) == 0);
}

TEST_CASE("plain mode writes every line; live mode only events, above a redrawn block") {
    std::ostringstream plain_out;
    RolloutView plain(plain_out, RolloutView::Mode::plain);
    plain.detail("  a2 converged");
    plain.event("  a3 failed: boom");
    plain.show(sample());
    CHECK(plain_out.str() == "  a2 converged\n  a3 failed: boom\n");

    std::ostringstream live_out;
    RolloutView live(live_out, RolloutView::Mode::live);
    live.show(sample());
    live.detail("  a2 converged");
    live.show(sample());  // unchanged: not drawn again
    const std::string once = live_out.str();
    CHECK(once.find("a2 converged") == std::string::npos);
    CHECK(once.find("batch 2/3") != std::string::npos);
    live.event("  a3 failed: boom");
    const std::string after = live_out.str().substr(once.size());
    // The block (4 lines) erased, the event, the block again.
    CHECK(after.rfind("\r\x1b[4A\x1b[J  a3 failed: boom\nbatch 1/3", 0) == 0);

    std::ostringstream quiet_out;
    RolloutView quiet(quiet_out, RolloutView::Mode::quiet);
    quiet.event("x");
    quiet.detail("y");
    quiet.show(sample());
    CHECK(quiet_out.str().empty());
}
