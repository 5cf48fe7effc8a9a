// Plain aligned text tables for lucidctl's human output.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace lucid::host::ctl {

// `text` with every control character (C0, DEL, C1) shown as '?': what lucidctl prints comes
// from retained messages anyone allowed on the broker may have written, and an escape sequence
// would drive the operator's terminal (rewrite lines, set the clipboard).
std::string printable(std::string text);

class TextTable {
  public:
    explicit TextTable(std::vector<std::string> headers);
    void add(std::vector<std::string> row);  // missing cells print empty
    // Columns padded to their widest cell, two spaces apart; a table without rows prints
    // "(none)" under its header so an empty list is visibly empty.
    void print(std::ostream& out) const;

  private:
    std::vector<std::string> headers_;
    std::vector<std::vector<std::string>> rows_;
};

}  // namespace lucid::host::ctl
