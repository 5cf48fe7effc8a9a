// Plain aligned text tables for lucidctl's human output.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace lucid::host::ctl {

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
