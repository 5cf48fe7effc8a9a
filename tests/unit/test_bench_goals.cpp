// The bench's regression guard (bench/src/goals.hpp): tables parsed as lucid-bench prints them,
// goals calibrated from three runs, a ratio outside its margin reported as a regression.
#include <doctest/doctest.h>

#include <stdexcept>

#include "goals.hpp"

using namespace lucid::bench;

namespace {

std::string table(const std::string& ping, const std::string& rate) {
    return "| # | measure | lucid agent | baseline (same run) | ratio | baseline is / notes |\n"
           "|---|---|---:|---:|---:|---|\n"
           "| 1 command round trip | ping p50 | 173 µs | 163 µs | " +
           ping +
           " | echo |\n"
           "|  | ping p90 | 237 µs | 199 µs | 1.19x |  |\n"
           "| 3 plugin dispatch | broker -> plugin handler | 35,830 /s | 38,322 /s | " +
           rate +
           " | raw |\n"
           "| 9 fleet | (not measured) | n/a | n/a | - | failed: boom |\n";
}

}  // namespace

TEST_CASE("a table's ratios by section and measure; rates are better higher") {
    const auto t = parse_table(table("1.06x", "0.93x"));
    REQUIRE(t.size() == 3);
    CHECK(t.at("1 ping p50").ratio == doctest::Approx(1.06));
    CHECK_FALSE(t.at("1 ping p50").higher_is_better);
    CHECK(t.at("1 ping p90").ratio == doctest::Approx(1.19));  // the section carried over
    CHECK(t.at("3 broker -> plugin handler").higher_is_better);
    CHECK(t.count("9 (not measured)") == 0);
    CHECK(parse_table("no table here\n| broken |\n").empty());
}

TEST_CASE("calibration: the median ratio, the spread as margin, hand-written goals kept") {
    std::map<std::string, Goal> previous;
    previous["1 ping p50"].goal = 1.5;
    const auto goals =
        calibrate({parse_table(table("1.00x", "0.90x")), parse_table(table("1.20x", "0.95x")),
                   parse_table(table("1.10x", "1.00x"))},
                  previous);
    CHECK(goals.at("1 ping p50").ratio == doctest::Approx(1.10));
    CHECK(goals.at("1 ping p50").margin == doctest::Approx(0.20 / 1.10));
    CHECK(*goals.at("1 ping p50").goal == 1.5);
    CHECK(goals.at("1 ping p90").margin == doctest::Approx(kMinMargin));  // no spread
    // Written and read back the same.
    const auto again = parse_goals(goals_json(goals));
    CHECK(again.at("1 ping p50").ratio == doctest::Approx(1.10));
    CHECK(again.at("3 broker -> plugin handler").higher_is_better);
    CHECK(*again.at("1 ping p50").goal == 1.5);
}

TEST_CASE("a ratio outside its margin regressed, in the direction that is worse") {
    auto goals =
        calibrate({parse_table(table("1.00x", "1.00x")), parse_table(table("1.00x", "1.00x")),
                   parse_table(table("1.00x", "1.00x"))},
                  {});
    goals["1 ping p50"].goal = 1.5;
    auto regressed = [&](const std::string& ping, const std::string& rate) {
        std::vector<std::string> names;
        for (const auto& line : check(goals, parse_table(table(ping, rate)))) {
            if (line.regressed) names.push_back(line.name);
        }
        return names;
    };
    CHECK(regressed("1.09x", "0.91x").empty());  // inside 10 %
    CHECK(regressed("0.50x", "2.00x").empty());  // better is never a regression
    CHECK(regressed("1.11x", "1.00x") == std::vector<std::string>{"1 ping p50"});
    CHECK(regressed("1.00x", "0.89x") == std::vector<std::string>{"3 broker -> plugin handler"});
    const auto lines = check(goals, parse_table(table("1.60x", "1.00x")));
    CHECK(lines[0].text == "1.60x (recorded 1.00x ± 10%; goal <= 1.50x not met) REGRESSED");
    // A goal the run did not measure passes and says so.
    goals["9 rollout"] = Goal{};
    bool said = false;
    for (const auto& line : check(goals, parse_table(table("1.00x", "1.00x")))) {
        if (line.name == "9 rollout") said = line.text == "not measured in this run";
    }
    CHECK(said);
}

TEST_CASE("a goals file that is not one is refused, naming the goal") {
    CHECK_THROWS_AS(parse_goals("[]"), std::runtime_error);
    CHECK_THROWS_WITH(parse_goals(R"({"goals":{"x":{"ratio":1}}})"),
                      "goals: 'x' needs ratio (number), margin (number), better (string)");
    CHECK_THROWS_WITH(parse_goals(R"({"goals":{"x":{"ratio":1,"margin":0.1,"better":"up"}}})"),
                      "goals: 'x' better must be lower or higher");
}
