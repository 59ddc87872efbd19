#include "table.h"

#include <algorithm>

namespace qsplit::cli {

std::string Table::render() const {
  std::vector<std::size_t> width(columns_.size());
  for (std::size_t c = 0; c < columns_.size(); ++c) width[c] = columns_[c].title.size();
  for (const auto& row : rows_)
    for (std::size_t c = 0; c < row.size() && c < width.size(); ++c)
      width[c] = std::max(width[c], row[c].size());
  std::string out;
  auto line = [&](auto cell) {
    std::string text;
    for (std::size_t c = 0; c < columns_.size(); ++c) {
      std::string value = cell(c);
      std::string pad(width[c] - std::min(width[c], value.size()), ' ');
      bool last = c + 1 == columns_.size();
      text += columns_[c].right ? pad + value : value + (last ? "" : pad);
      if (!last) text += "  ";
    }
    while (!text.empty() && text.back() == ' ') text.pop_back();
    out += text + "\n";
  };
  line([&](std::size_t c) { return columns_[c].title; });
  for (const auto& row : rows_) line([&](std::size_t c) { return c < row.size() ? row[c] : ""; });
  return out;
}

}  // namespace qsplit::cli
