// Table: the CLI's listings, printed in columns as wide as their widest cell.
#pragma once

#include <string>
#include <vector>

namespace qsplit::cli {

class Table {
 public:
  struct Column {
    std::string title;
    bool right = false;  // numbers: aligned on the right
  };
  explicit Table(std::vector<Column> columns) : columns_(std::move(columns)) {}

  // A row of as many cells as there are columns (missing cells are blank).
  void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  bool empty() const { return rows_.empty(); }
  // The titles and every row, two spaces between columns; the last column is not padded.
  std::string render() const;

 private:
  std::vector<Column> columns_;
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace qsplit::cli
