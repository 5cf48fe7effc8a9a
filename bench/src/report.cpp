#include "report.hpp"

#include <algorithm>
#include <cstdlib>

namespace lucid::bench {

void Report::missing(const std::string& section, const std::string& measure,
                     const std::string& why) {
    rows_.push_back(Row{section, measure, "n/a", "n/a", "-", why});
}

void Report::print(std::ostream& out) const {
    out << "| # | measure | lucid agent | baseline (same run) | ratio | baseline is / notes |\n"
        << "|---|---|---:|---:|---:|---|\n";
    // Scenarios run in the order that lets later ones reuse earlier figures; print by section.
    std::vector<Row> rows = rows_;
    std::stable_sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
        return std::atoi(a.section.c_str()) < std::atoi(b.section.c_str());
    });
    std::string last_section;
    for (const auto& r : rows) {
        // The section number only on its first row keeps the table readable.
        out << "| " << (r.section == last_section ? "" : r.section) << " | " << r.measure << " | "
            << r.lucid << " | " << r.baseline << " | " << r.ratio << " | " << r.note << " |\n";
        last_section = r.section;
    }
    if (!notes_.empty()) {
        out << "\n";
        for (const auto& n : notes_) out << "- " << n << "\n";
    }
}

}  // namespace lucid::bench
