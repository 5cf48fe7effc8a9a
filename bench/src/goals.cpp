#include "goals.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <stdexcept>

#include <rapidjson/document.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

namespace lucid::bench {
namespace {

std::string trim(const std::string& s) {
    const auto first = s.find_first_not_of(' ');
    if (first == std::string::npos) return "";
    return s.substr(first, s.find_last_not_of(' ') - first + 1);
}

std::vector<std::string> cells(const std::string& line) {
    std::vector<std::string> out;
    std::size_t start = 1;  // past the leading '|'
    while (start < line.size()) {
        const std::size_t bar = line.find('|', start);
        if (bar == std::string::npos) break;
        out.push_back(trim(line.substr(start, bar - start)));
        start = bar + 1;
    }
    return out;
}

std::string percent(double fraction) {
    char text[32];
    std::snprintf(text, sizeof text, "%.0f%%", fraction * 100);
    return text;
}

std::string times(double ratio) {
    char text[32];
    std::snprintf(text, sizeof text, "%.2fx", ratio);
    return text;
}

}  // namespace

std::map<std::string, TableRatio> parse_table(const std::string& markdown) {
    std::map<std::string, TableRatio> out;
    std::istringstream lines(markdown);
    std::string section;
    for (std::string line; std::getline(lines, line);) {
        if (line.rfind("| ", 0) != 0) continue;
        const auto c = cells(line);
        if (c.size() < 6 || c[0] == "#" || c[0].rfind("---", 0) == 0) continue;
        if (!c[0].empty()) section = c[0].substr(0, c[0].find(' '));
        if (section.empty()) continue;
        const std::string& ratio = c[4];
        char* end = nullptr;
        const double value = std::strtod(ratio.c_str(), &end);
        if (end == ratio.c_str() || std::string(end) != "x" || !std::isfinite(value)) continue;
        const std::string& figure = c[2];
        const bool rate = figure.size() > 2 && figure.compare(figure.size() - 2, 2, "/s") == 0;
        out[section + " " + c[1]] = TableRatio{value, rate};
    }
    return out;
}

std::map<std::string, Goal> parse_goals(const std::string& json) {
    rapidjson::Document doc;
    doc.Parse(json.c_str(), json.size());
    if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("goals") ||
        !doc["goals"].IsObject()) {
        throw std::runtime_error("goals: expected an object with a \"goals\" object");
    }
    std::map<std::string, Goal> out;
    for (const auto& m : doc["goals"].GetObject()) {
        const std::string name = m.name.GetString();
        const auto& v = m.value;
        if (!v.IsObject() || !v.HasMember("ratio") || !v["ratio"].IsNumber() ||
            !v.HasMember("margin") || !v["margin"].IsNumber() || !v.HasMember("better") ||
            !v["better"].IsString()) {
            throw std::runtime_error("goals: '" + name +
                                     "' needs ratio (number), margin (number), better (string)");
        }
        const std::string better = v["better"].GetString();
        if (better != "lower" && better != "higher") {
            throw std::runtime_error("goals: '" + name + "' better must be lower or higher");
        }
        Goal g;
        g.ratio = v["ratio"].GetDouble();
        g.margin = v["margin"].GetDouble();
        g.higher_is_better = better == "higher";
        if (v.HasMember("goal") && v["goal"].IsNumber()) g.goal = v["goal"].GetDouble();
        out[name] = g;
    }
    return out;
}

std::string goals_json(const std::map<std::string, Goal>& goals) {
    rapidjson::StringBuffer buffer;
    rapidjson::PrettyWriter<rapidjson::StringBuffer> w(buffer);
    w.SetIndent(' ', 2);
    w.SetFormatOptions(rapidjson::kFormatSingleLineArray);
    w.StartObject();
    w.Key("about");
    w.String(
        "Ratios of BENCHMARKS.md, median of the calibration runs (scripts/bench.sh --calibrate), "
        "margin = their spread; scripts/bench.sh --check fails when a ratio leaves its margin. "
        "'goal' is the issue's target, hand-written.");
    w.Key("goals");
    w.StartObject();
    for (const auto& [name, g] : goals) {
        w.Key(name.c_str());
        w.StartObject();
        w.Key("ratio");
        w.Double(std::round(g.ratio * 100) / 100);
        w.Key("margin");
        w.Double(std::round(g.margin * 100) / 100);
        w.Key("better");
        w.String(g.higher_is_better ? "higher" : "lower");
        if (g.goal) {
            w.Key("goal");
            w.Double(*g.goal);
        }
        w.EndObject();
    }
    w.EndObject();
    w.EndObject();
    return std::string(buffer.GetString(), buffer.GetSize()) + "\n";
}

std::map<std::string, Goal> calibrate(const std::vector<std::map<std::string, TableRatio>>& runs,
                                      const std::map<std::string, Goal>& previous) {
    std::map<std::string, std::vector<TableRatio>> seen;
    for (const auto& run : runs) {
        for (const auto& [name, r] : run) seen[name].push_back(r);
    }
    std::map<std::string, Goal> out;
    for (auto& [name, values] : seen) {
        if (values.size() < runs.size()) continue;  // not in every run: no margin to measure
        std::vector<double> ratios;
        for (const auto& v : values) ratios.push_back(v.ratio);
        std::sort(ratios.begin(), ratios.end());
        Goal g;
        g.ratio = ratios[ratios.size() / 2];
        const double spread = ratios.back() - ratios.front();
        g.margin = std::max(kMinMargin, g.ratio > 0 ? spread / g.ratio : kMinMargin);
        g.higher_is_better = values.front().higher_is_better;
        if (auto it = previous.find(name); it != previous.end()) g.goal = it->second.goal;
        out[name] = g;
    }
    return out;
}

std::vector<CheckLine> check(const std::map<std::string, Goal>& goals,
                             const std::map<std::string, TableRatio>& table) {
    std::vector<CheckLine> out;
    for (const auto& [name, g] : goals) {
        CheckLine line{name, "", false};
        auto it = table.find(name);
        if (it == table.end()) {
            line.text = "not measured in this run";
            out.push_back(line);
            continue;
        }
        const double now = it->second.ratio;
        line.regressed =
            g.higher_is_better ? now < g.ratio * (1 - g.margin) : now > g.ratio * (1 + g.margin);
        line.text = times(now) + " (recorded " + times(g.ratio) + " ± " + percent(g.margin);
        if (g.goal) {
            const bool met = g.higher_is_better ? now >= *g.goal : now <= *g.goal;
            line.text += std::string("; goal ") + (g.higher_is_better ? ">= " : "<= ") +
                         times(*g.goal) + (met ? " met" : " not met");
        }
        line.text += line.regressed ? ") REGRESSED" : ")";
        out.push_back(line);
    }
    return out;
}

}  // namespace lucid::bench
