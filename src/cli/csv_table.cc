#include "cli/csv_table.h"

#include <map>

#include "almanac/data.h"

namespace almanac::cli {

std::string CsvTable::ColumnList() const {
  std::string s;
  for (const auto& c : columns) s += (s.empty() ? "" : ", ") + QuoteForMessage(c);
  return s;
}

Result<size_t> CsvTable::Find(const std::string& column) const {
  for (size_t i = 0; i < columns.size(); ++i)
    if (columns[i] == column) return i;
  return NotFoundError(name + ": no column " + QuoteForMessage(column) + " (columns: " + ColumnList() + ")");
}

Result<double> CsvTable::Number(size_t row, size_t col) const {
  const std::string& text = rows[row][col];
  const std::string where = name + " line " + std::to_string(lines[row]) + ", column " + QuoteForMessage(columns[col]);
  if (Trim(text).empty()) return InvalidArgumentError(where + ": empty value (every row needs a number)");
  auto v = ParseFiniteDouble(text);
  if (v.ok()) return *v;
  const std::string lower = ToLower(Trim(text));
  if (lower.find("nan") != std::string::npos || lower.find("inf") != std::string::npos)
    return InvalidArgumentError(where + ": " + QuoteForMessage(text) + " is not a finite number (NaN and infinities are not accepted)");
  return InvalidArgumentError(where + ": " + QuoteForMessage(text) + " is not a number");
}

Result<std::vector<double>> CsvTable::Column(size_t col) const {
  std::vector<double> out(rows.size());
  for (size_t r = 0; r < rows.size(); ++r) {
    ALMANAC_ASSIGN_OR_RETURN(out[r], Number(r, col));
  }
  return out;
}

Result<CsvTable> ReadCsvTable(const std::string& path, const std::string& option) {
  if (path.empty()) return InvalidArgumentError(option + ": name a CSV file");
  ALMANAC_ASSIGN_OR_RETURN(auto reader, data::CsvReader::Open(path));
  CsvTable t;
  t.name = path;
  std::vector<std::string_view> fields;
  ALMANAC_ASSIGN_OR_RETURN(bool any, reader->Next(&fields));
  if (!any) return InvalidArgumentError(path + ": empty file, expected a header line naming the columns");
  std::map<std::string, int64_t> seen;
  for (auto f : fields) {
    std::string c(Trim(f));
    if (c.empty()) return InvalidArgumentError(path + " line 1: empty column name");
    if (seen.count(c)) return InvalidArgumentError(path + " line 1: duplicate column " + QuoteForMessage(c));
    seen[c] = 1;
    t.columns.push_back(std::move(c));
  }
  while (true) {
    ALMANAC_ASSIGN_OR_RETURN(bool more, reader->Next(&fields));
    if (!more) break;
    if (fields.size() != t.columns.size())
      return InvalidArgumentError(path + " line " + std::to_string(reader->line()) + ": " + std::to_string(fields.size()) +
                                  " fields, but the header has " + std::to_string(t.columns.size()));
    t.lines.push_back(reader->line());
    t.rows.emplace_back(fields.begin(), fields.end());
  }
  if (t.rows.empty()) return InvalidArgumentError(path + ": no data rows after the header");
  return t;
}

}  // namespace almanac::cli
