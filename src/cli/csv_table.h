// A small CSV file with a header line, read whole, its cells kept as text until a column is
// asked for as numbers (cli-internal): the input of `risk` (P&L files) and `reconcile`
// (forecast and residual matrices).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "almanac/core.h"

namespace almanac::cli {

struct CsvTable {
  std::string name;
  std::vector<std::string> columns;
  std::vector<int64_t> lines;  // line of each row
  std::vector<std::vector<std::string>> rows;

  // "'a', 'b'" for messages.
  std::string ColumnList() const;
  // NotFound naming the file and listing the columns.
  Result<size_t> Find(const std::string& column) const;
  // InvalidArgument naming the file, line and column for an empty, non-numeric or non-finite cell.
  Result<double> Number(size_t row, size_t col) const;
  Result<std::vector<double>> Column(size_t col) const;
};

// Reads `path` ("-": standard input). InvalidArgument ("<option>: name a CSV file") for an empty
// path; for an empty file, an empty or duplicate column name, a row with the wrong number of
// fields, or no data rows; the reader's errors for an unreadable file.
Result<CsvTable> ReadCsvTable(const std::string& path, const std::string& option);

}  // namespace almanac::cli
