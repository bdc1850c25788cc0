// File: almanac/data.h
//
// The data component: reading provider files and feeds and loading them into the store as
// vintages. This header covers file ingest (CSV in long, wide, FRED and ALFRED form) and the
// streaming CSV reader; provider connectors (FRED API, SDMX, World Bank, generic HTTP) are
// in almanac/data/connectors.h, included at the end.
//
//   data::IngestOptions opts;
//   opts.loader = "alice";
//   ALMANAC_ASSIGN_OR_RETURN(data::IngestResult r, data::IngestFile("gdp.csv", opts, store.series()));
//   std::cout << r.report.vintages_created << " vintages\n";
//
// Memory use does not grow with the file: rows stream from a fixed buffer into the load.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "almanac/core.h"
#include "almanac/store.h"

namespace almanac::data {

// A streaming RFC 4180 CSV reader (comma separator by default, double-quote quoting, CRLF or
// LF). Rejects files that are not UTF-8 text. Not thread-safe.
class CsvReader {
 public:
  ~CsvReader();
  // Opens a file ("-" for standard input). NotFound / PermissionDenied / FailedPrecondition
  // (a directory) naming the path. `delimiter` as for set_delimiter.
  static Result<std::unique_ptr<CsvReader>> Open(const std::string& path, char delimiter = ',');
  // Reads from a string (tests, HTTP bodies).
  static std::unique_ptr<CsvReader> FromString(std::string data, std::string name, char delimiter = ',');

  // The field separator: ',', ';' or '\t'; 0 detects it from the first line: ';' or tab when
  // that line has no comma outside quotes and only one of the two, else ','.
  // IMPORTANT: takes effect only before the first call to Next.
  void set_delimiter(char delimiter) {
    if (!checked_start_) delimiter_ = delimiter;
  }
  // The separator in use (after the first Next: the detected one).
  char delimiter() const { return delimiter_; }

  // Reads the next record. Returns false at the end. The views stay valid until the next
  // call. InvalidArgument naming the line for unbalanced quotes, stray quotes, NUL bytes or
  // invalid UTF-8. Blank lines are skipped.
  Result<bool> Next(std::vector<std::string_view>* fields);

  const std::string& name() const { return name_; }
  // Line number (1-based) where the last record started.
  int64_t line() const { return record_line_; }
  int64_t bytes_read() const { return bytes_consumed_; }
  // Total size when known (files), else -1.
  int64_t total_bytes() const { return total_bytes_; }
  // SHA-256 of every byte read so far (the whole input once Next returned false).
  std::string HexDigest();

 private:
  CsvReader() = default;
  Result<bool> Fill();
  Status DetectDelimiter();

  std::string name_;
  char delimiter_ = ',';
  int fd_ = -1;
  bool own_fd_ = false;
  bool eof_ = false;
  std::string buf_;
  size_t pos_ = 0;
  size_t end_ = 0;
  std::string unescaped_;
  std::vector<std::pair<size_t, size_t>> spans_;
  std::vector<bool> from_unescaped_;
  int64_t line_ = 1;
  int64_t record_line_ = 0;
  int64_t bytes_consumed_ = 0;
  int64_t total_bytes_ = -1;
  Sha256 hash_;
  bool checked_start_ = false;
};

enum class FileFormat { kAuto, kLong, kWide, kFred, kAlfred };
std::string_view FileFormatName(FileFormat f);
Result<FileFormat> ParseFileFormat(std::string_view text);

// How a file writes its numbers: the decimal mark ('.' or ',') and the thousands separator
// (',', '.' or 0 for none). The default is "1600.5"; {',', '.'} reads "1.600,5".
struct NumberFormat {
  char decimal = '.';
  char thousands = 0;
};

// Option values (the CLI's --delimiter, --decimal, --thousands). InvalidArgument naming the
// accepted values otherwise.
// "auto" (0: detect), "," or "comma", ";" or "semicolon", "tab" (or a tab character).
Result<char> ParseDelimiter(std::string_view text);
// "." (or "point", "dot") or "," (or "comma").
Result<char> ParseDecimalMark(std::string_view text);
// "none" (0), "," (or "comma") or "." (or "point", "dot").
Result<char> ParseThousandsSeparator(std::string_view text);

struct IngestProgress {
  int64_t rows = 0;
  int64_t bytes = 0;
  int64_t total_bytes = -1;  // -1 when unknown (stdin)
  double seconds = 0;
};

// Descriptive metadata given on the command line or in a side file; empty fields and an
// unset frequency mean "not given".
struct SeriesMetadata {
  std::optional<Frequency> frequency;
  std::string title;
  std::string unit;
  std::string seasonal_adjustment;
  std::string source;
};

struct IngestOptions {
  FileFormat format = FileFormat::kAuto;
  // Key of the series in a FRED file whose value column is named VALUE; overrides the
  // derived key (fred:<COLUMN>) otherwise, and the column name of a one-series wide file.
  std::string series_key;
  // Metadata applied to every series in the file (non-empty fields), then per-series entries
  // (which win). Frequency, when neither given here nor already stored: from the first period
  // label when it is not a date (2024Q1), else inferred from the first dates of the series
  // (long form) or of the file (wide, FRED, ALFRED) alike; a long-form series whose dates
  // tell nothing else (one date, irregular days) is daily.
  SeriesMetadata defaults;
  std::map<std::string, SeriesMetadata> metadata;
  // realtime_start of rows that carry none (default: today).
  std::optional<Date> realtime_start;
  std::string loader;
  // Date labels of A/Q/M series must be the first day of their period or, for every date of
  // a series, the last day (2024-03-31 is 2024Q1: the Excel and FRED-download convention);
  // with this set, any day within the period is accepted.
  bool any_day_in_period = false;
  // Field separator (CsvReader::set_delimiter; 0 detects ';' and tab from the header line).
  char delimiter = 0;
  // How the values are written; NaN and infinities are refused whatever the format.
  NumberFormat numbers;
  // Called about once a second during long loads.
  std::function<void(const IngestProgress&)> progress;
};

struct IngestResult {
  FileFormat format = FileFormat::kAuto;
  char delimiter = ',';  // the field separator used (detected or given)
  // One line each on what was assumed about the file (a detected separator, period-end
  // dates stored as their periods); the CLI prints them on stderr unless --quiet.
  std::vector<std::string> notes;
  std::string source_hash;
  int64_t bytes = 0;
  store::LoadReport report;
};

// Reads `path` ("-" for stdin) and loads it as one transaction. Errors name the file, line
// and column (or series and period); on any error nothing is stored.
Result<IngestResult> IngestFile(const std::string& path, const IngestOptions& options, store::SeriesStore& store);
// As IngestFile, from a reader that has not read anything yet (its delimiter is set from
// `options.delimiter`).
Result<IngestResult> IngestReader(CsvReader& reader, const IngestOptions& options, store::SeriesStore& store);

// Reads a metadata side file (YAML: {series: {KEY: {title, unit, frequency,
// seasonal_adjustment, source}}}) . InvalidArgument naming the file, key and field.
Result<std::map<std::string, SeriesMetadata>> ReadMetadataFile(const std::string& path);

}  // namespace almanac::data

#include "almanac/data/connectors.h"  // IWYU pragma: export
