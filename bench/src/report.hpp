// The one table the bench prints: every figure beside the baseline measured in the same run.
// Thread: one thread. Errors: none.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace lucid::bench {

struct Row {
    std::string section;   // "1 command round trip"
    std::string measure;   // "ping p50"
    std::string lucid;     // formatted figure of the agent
    std::string baseline;  // formatted figure of the baseline
    std::string ratio;     // lucid / baseline, formatted
    std::string note;      // what the baseline is, or why a figure is missing
};

class Report {
  public:
    void add(Row row) { rows_.push_back(std::move(row)); }
    // A figure that could not be measured: says why instead of a number.
    void missing(const std::string& section, const std::string& measure, const std::string& why);
    void note(const std::string& text) { notes_.push_back(text); }
    // Markdown: the table, then the notes.
    void print(std::ostream& out) const;

  private:
    std::vector<Row> rows_;
    std::vector<std::string> notes_;
};

}  // namespace lucid::bench
