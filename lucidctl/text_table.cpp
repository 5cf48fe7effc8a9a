#include "lucidctl/text_table.hpp"

#include <algorithm>
#include <ostream>

namespace lucid::host::ctl {

TextTable::TextTable(std::vector<std::string> headers) : headers_(std::move(headers)) {}

std::string printable(std::string text) {
    for (std::size_t i = 0; i < text.size(); ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c < 0x20 || c == 0x7f) {
            text[i] = '?';
        } else if (c == 0xc2 && i + 1 < text.size() &&
                   static_cast<unsigned char>(text[i + 1]) >= 0x80 &&
                   static_cast<unsigned char>(text[i + 1]) <= 0x9f) {
            text.replace(i, 2, "?");  // C1 controls, U+0080 to U+009F
        }
    }
    return text;
}

void TextTable::add(std::vector<std::string> row) {
    row.resize(headers_.size());
    for (auto& cell : row) cell = printable(std::move(cell));
    rows_.push_back(std::move(row));
}

void TextTable::print(std::ostream& out) const {
    std::vector<std::size_t> widths(headers_.size());
    for (std::size_t c = 0; c < headers_.size(); ++c) {
        widths[c] = headers_[c].size();
        for (const auto& row : rows_) widths[c] = std::max(widths[c], row[c].size());
    }
    auto line = [&](const std::vector<std::string>& cells) {
        std::string text;
        for (std::size_t c = 0; c < cells.size(); ++c) {
            text += cells[c];
            if (c + 1 < cells.size()) text += std::string(widths[c] - cells[c].size() + 2, ' ');
        }
        while (!text.empty() && text.back() == ' ') text.pop_back();
        out << text << "\n";
    };
    line(headers_);
    for (const auto& row : rows_) line(row);
    if (rows_.empty()) out << "(none)\n";
}

}  // namespace lucid::host::ctl
