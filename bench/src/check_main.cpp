// lucid-bench-check: the regression guard (goals.hpp), run by scripts/bench.sh.
//
//   lucid-bench-check GOALS.json TABLE.md              exit 1 when a ratio regressed
//   lucid-bench-check --calibrate GOALS.json T1 T2 T3  writes GOALS.json from three runs
//
// Exit 2 on a usage error or a file that cannot be read or parsed (named).
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <string>

#include "goals.hpp"

using namespace lucid::bench;

namespace {

std::string read(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw std::runtime_error(path + ": cannot be read");
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

}  // namespace

int main(int argc, char** argv) {
    const std::vector<std::string> args(argv + 1, argv + argc);
    try {
        if (!args.empty() && args[0] == "--calibrate") {
            if (args.size() < 5)
                throw std::invalid_argument("--calibrate needs GOALS and 3 tables");
            std::map<std::string, Goal> previous;
            if (std::ifstream(args[1])) previous = parse_goals(read(args[1]));
            std::vector<std::map<std::string, TableRatio>> runs;
            for (std::size_t i = 2; i < args.size(); ++i)
                runs.push_back(parse_table(read(args[i])));
            const auto goals = calibrate(runs, previous);
            std::ofstream(args[1]) << goals_json(goals);
            std::printf("bench: wrote %zu goals to %s\n", goals.size(), args[1].c_str());
            return 0;
        }
        if (args.size() != 2) throw std::invalid_argument("usage");
        const auto goals = parse_goals(read(args[0]));
        const auto table = parse_table(read(args[1]));
        int regressed = 0;
        for (const auto& line : check(goals, table)) {
            std::printf("%-60s %s\n", line.name.c_str(), line.text.c_str());
            regressed += line.regressed;
        }
        std::printf("bench: %d of %zu ratios regressed\n", regressed, goals.size());
        return regressed ? 1 : 0;
    } catch (const std::invalid_argument&) {
        std::fprintf(stderr,
                     "usage: lucid-bench-check GOALS.json TABLE.md\n"
                     "       lucid-bench-check --calibrate GOALS.json TABLE1.md TABLE2.md "
                     "TABLE3.md\n");
        return 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "lucid-bench-check: %s\n", e.what());
        return 2;
    }
}
