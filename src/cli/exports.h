// Wide tables (periods x series) and ALFRED-style vintage matrices (periods x vintages) for
// `snapshot export` and `series show`, as CSV, as result tables, or as .xlsx workbooks
// (cli-internal; docs/clients.md, "Exports for Excel and EViews").
//
// Every matrix has a `date` column (the period's first day: a real date in Excel) and a
// `period` column (its label, 2024Q1), then one column per series or per vintage. A cell is
// a value, "NA" (a value known to be missing) or empty (no observation; in a vintage matrix:
// the period was not known yet at that vintage).
#pragma once

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "almanac/core.h"
#include "almanac/store.h"

#include "cli/output.h"

namespace almanac::cli {

enum class CellState : uint8_t { kNone, kMissing, kValue };
struct MatrixCell {
  CellState state = CellState::kNone;
  double value = 0;
};

// Rows are every period from `first` to `last`, in order; `fill` writes one row's cells (one
// per column) and is called once per row, in order.
struct PeriodMatrix {
  Frequency frequency = Frequency::kAnnual;
  std::vector<std::string> columns;  // after date and period
  int64_t first = 0, last = -1;      // ordinals; empty when last < first
  std::function<void(int64_t ordinal, std::vector<MatrixCell>& cells)> fill;
  bool empty() const { return last < first; }
};

// A snapshot's series side by side. FailedPrecondition when they have different frequencies
// (a wide table has one row per period) or no series. The matrix refers to `snapshot`.
Result<PeriodMatrix> SnapshotWideMatrix(const store::Snapshot& snapshot);
// One series as a one-column wide table (refers to `values`).
PeriodMatrix SeriesWideMatrix(const std::string& key, const TimeSeries& values);
// One column per distinct realtime_start of the series' vintages (at or before `as_of` when
// given), named KEY_YYYYMMDD as ALFRED names them; a cell is the value known as of that date.
// Memory: the changes between consecutive vintages, not periods x vintages. NotFound for an
// unknown key; FailedPrecondition when the series has no vintages (at or before `as_of`).
// `realtime_starts` receives the columns' dates.
Result<PeriodMatrix> VintageMatrix(store::SeriesStore& series, const std::string& key, std::optional<Date> as_of,
                                   std::vector<Date>* realtime_starts);

// The matrix as CSV: header date,period,COLUMNS...; values as FormatDouble writes them.
void WriteMatrixCsv(std::ostream& out, const PeriodMatrix& m);
// The matrix as a result table (for --format table and json).
Table MatrixTable(const PeriodMatrix& m);

// Whether an export is an .xlsx workbook: `--xlsx`, or an output file named *.xlsx.
// InvalidArgument for a workbook to standard output (no -o FILE, or -o -).
Result<bool> WantsXlsx(const std::string& output, bool xlsx_flag);

// Writes a workbook to `path`: a sheet per matrix (in order) then `extra` sheets of text and
// numbers (metadata). Nothing is written when it fails.
struct XlsxTable {
  std::string sheet;
  std::vector<std::string> header;
  std::vector<std::vector<Json>> rows;  // numbers, strings ("YYYY-MM-DD" strings in `date_columns` become dates), null
  std::vector<size_t> date_columns;
};
Status WriteXlsx(const std::string& path, const std::vector<std::pair<std::string, const PeriodMatrix*>>& matrices,
                 const std::vector<XlsxTable>& extra);

}  // namespace almanac::cli
