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

// A streaming RFC 4180 CSV reader (comma separator, double-quote quoting, CRLF or LF).
// Rejects files that are not UTF-8 text. Not thread-safe.
class CsvReader {
 public:
  ~CsvReader();
  // Opens a file ("-" for standard input). NotFound / PermissionDenied / FailedPrecondition
  // (a directory) naming the path.
  static Result<std::unique_ptr<CsvReader>> Open(const std::string& path);
  // Reads from a string (tests, HTTP bodies).
  static std::unique_ptr<CsvReader> FromString(std::string data, std::string name);

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

  std::string name_;
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
  // derived key (fred:<COLUMN>) otherwise.
  std::string series_key;
  // Metadata applied to every series in the file (non-empty fields), then per-series entries
  // (which win). Frequency: long form uses the period labels (ISO dates are daily unless the
  // series' frequency is given here or already stored); date-column forms (wide, FRED,
  // ALFRED) infer it from the first dates when not given.
  SeriesMetadata defaults;
  std::map<std::string, SeriesMetadata> metadata;
  // realtime_start of rows that carry none (default: today).
  std::optional<Date> realtime_start;
  std::string loader;
  // Accept any day within a period for date labels of A/Q/M series (default: the first day).
  bool any_day_in_period = false;
  // Called about once a second during long loads.
  std::function<void(const IngestProgress&)> progress;
};

struct IngestResult {
  FileFormat format = FileFormat::kAuto;
  std::string source_hash;
  int64_t bytes = 0;
  store::LoadReport report;
};

// Reads `path` ("-" for stdin) and loads it as one transaction. Errors name the file, line
// and column (or series and period); on any error nothing is stored.
Result<IngestResult> IngestFile(const std::string& path, const IngestOptions& options, store::SeriesStore& store);
Result<IngestResult> IngestReader(CsvReader& reader, const IngestOptions& options, store::SeriesStore& store);

// Reads a metadata side file (YAML: {series: {KEY: {title, unit, frequency,
// seasonal_adjustment, source}}}) . InvalidArgument naming the file, key and field.
Result<std::map<std::string, SeriesMetadata>> ReadMetadataFile(const std::string& path);

}  // namespace almanac::data

#include "almanac/data/connectors.h"  // IWYU pragma: export
