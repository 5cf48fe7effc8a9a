// The regression guard of the benchmarks (issue 21 item 5): each ratio of a bench table set
// against the one recorded in bench/goals.json, with a noise margin measured from three runs.
//
// A table is lucid-bench's Markdown (report.hpp); a row is named "<section number> <measure>"
// ("1 ping p50", "8 refresh round trip, 1000 entries"). goals.json:
//
//   {"goals": {"1 ping p50": {"ratio": 1.06, "margin": 0.12, "better": "lower", "goal": 1.5}}}
//
// `ratio` is the median of the calibration runs, `margin` their spread (max - min) / median, at
// least kMinMargin; `better` is "higher" for rates (a figure in "/s"), "lower" otherwise; `goal`
// (optional, hand-written, kept by a new calibration) is the target, reported, never
// failed on. Pure; thread-safe; errors as exceptions (std::runtime_error naming what is wrong).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace lucid::bench {

inline constexpr double kMinMargin = 0.10;

struct TableRatio {
    double ratio = 0;
    bool higher_is_better = false;
};

struct Goal {
    double ratio = 0;
    double margin = kMinMargin;
    bool higher_is_better = false;
    std::optional<double> goal;
};

// The ratios of a table by row name; rows without a ratio ("-", "n/a") are left out.
std::map<std::string, TableRatio> parse_table(const std::string& markdown);

std::map<std::string, Goal> parse_goals(const std::string& json);
std::string goals_json(const std::map<std::string, Goal>& goals);

// Goals from three (or more) runs' tables; `previous` lends its hand-written `goal` fields.
std::map<std::string, Goal> calibrate(const std::vector<std::map<std::string, TableRatio>>& runs,
                                      const std::map<std::string, Goal>& previous);

struct CheckLine {
    std::string name;
    std::string text;  // "1.08x (recorded 1.06x ± 12%; goal 1.5x met)"
    bool regressed = false;
};

// One line per goal, in name order; a goal the table did not measure says so and passes.
std::vector<CheckLine> check(const std::map<std::string, Goal>& goals,
                             const std::map<std::string, TableRatio>& table);

}  // namespace lucid::bench
