// Table, CSV and JSON output of command results (cli-internal).
#pragma once

#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "almanac/core.h"
#include "almanac/core/json.h"

namespace almanac::cli {

enum class OutputFormat { kTable, kJson, kCsv };
Result<OutputFormat> ParseOutputFormat(std::string_view text);

// A result table: named columns and rows of JSON values (numbers stay numbers in JSON).
struct Table {
  std::vector<std::string> columns;
  std::vector<std::vector<Json>> rows;
  void Add(std::vector<Json> row) { rows.push_back(std::move(row)); }
};

// Table: aligned text columns. CSV: RFC 4180 with a header. JSON: an array of objects.
void Print(std::ostream& out, const Table& table, OutputFormat format);
// Prints a JSON document (for json format) or key: value lines (table/csv).
void PrintRecord(std::ostream& out, const std::vector<std::pair<std::string, Json>>& fields, OutputFormat format);
std::string CsvEscape(std::string_view s);
// A timestamp cell: ISO 8601 text, or null for 0 (not set).
Json Ts(int64_t micros);

// Standard output, or the file at `path` ("" or "-": standard output). PermissionDenied when
// the file cannot be created.
class OutputTarget {
 public:
  static Result<std::unique_ptr<OutputTarget>> Open(const std::string& path);
  std::ostream& stream() { return *out_; }

 private:
  std::unique_ptr<std::ostream> file_;
  std::ostream* out_ = nullptr;
};
std::string CellText(const Json& v);

}  // namespace almanac::cli
