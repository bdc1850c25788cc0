// Excel workbooks (.xlsx) written with libxlsxwriter, opened on first use (cli-internal).
// The almanac binary does not link libxlsxwriter: only a command that writes a workbook loads it
// (core/shared_library.h says why), so `almanac --version` and every other command do not.
//
//   ALMANAC_ASSIGN_OR_RETURN(auto book, XlsxWorkbook::Create("out.xlsx"));
//   ALMANAC_RETURN_IF_ERROR(book->AddSheet("data", {"date", "period", "us:gdp"}, {12, 9, 14}));
//   ALMANAC_RETURN_IF_ERROR(book->WriteRow({XlsxCell::Of(date), XlsxCell::Of("2024Q1"), XlsxCell::Of(1.5)}));
//   ALMANAC_RETURN_IF_ERROR(book->Close());
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "almanac/core.h"

struct lxw_workbook;
struct lxw_worksheet;
struct lxw_format;

namespace almanac::cli {

// One cell: blank, a number, a date (an Excel date serial with a yyyy-mm-dd number format, so
// Excel, pandas and openpyxl read a real date) or text.
struct XlsxCell {
  enum class Kind { kBlank, kNumber, kDate, kText };
  Kind kind = Kind::kBlank;
  double number = 0;
  Date date;
  std::string text;

  static XlsxCell Blank() { return {}; }
  static XlsxCell Of(double v) { return {Kind::kNumber, v, {}, {}}; }
  static XlsxCell Of(std::optional<double> v) { return v ? Of(*v) : Blank(); }
  static XlsxCell Of(Date d) { return {Kind::kDate, 0, d, {}}; }
  static XlsxCell Of(std::string s) { return {Kind::kText, 0, {}, std::move(s)}; }
};

// Excel's worksheet limits.
inline constexpr int64_t kXlsxMaxRows = 1048576;
inline constexpr int64_t kXlsxMaxColumns = 16384;

// A workbook being written, in libxlsxwriter's constant-memory mode: rows go to a temporary
// file as they are written (memory does not grow with the rows), so every sheet is written
// top to bottom, one sheet after the other. The file appears at `path` only when Close()
// succeeds (written beside it and renamed): a failed export leaves an existing file as it was.
// Not thread-safe.
class XlsxWorkbook {
 public:
  // FailedPrecondition when libxlsxwriter cannot be loaded (naming the Debian package);
  // InvalidArgument when `path` is a directory; PermissionDenied when its folder is missing
  // or cannot be written.
  static Result<std::unique_ptr<XlsxWorkbook>> Create(const std::string& path);
  ~XlsxWorkbook();
  XlsxWorkbook(const XlsxWorkbook&) = delete;
  XlsxWorkbook& operator=(const XlsxWorkbook&) = delete;

  // Starts a sheet with a bold header row, frozen below it (and right of `frozen_columns`),
  // and the given column widths (characters; missing ones keep Excel's default).
  // InvalidArgument for more columns than Excel allows.
  Status AddSheet(const std::string& name, const std::vector<std::string>& header, const std::vector<double>& widths,
                  int frozen_columns = 0);
  // The next row of the current sheet. OutOfRange beyond Excel's row limit.
  Status WriteRow(const std::vector<XlsxCell>& cells);
  // Writes the file. PermissionDenied (naming the file and libxlsxwriter's reason) when it
  // cannot be written.
  Status Close();

 private:
  XlsxWorkbook(std::string path, std::string tmp_path) : path_(std::move(path)), tmp_path_(std::move(tmp_path)) {}

  std::string path_;
  std::string tmp_path_;
  lxw_workbook* book_ = nullptr;
  lxw_worksheet* sheet_ = nullptr;
  lxw_format* bold_ = nullptr;
  lxw_format* date_ = nullptr;
  int64_t row_ = 0;
  size_t columns_ = 0;
};

// Days from Excel's epoch (1899-12-30, so that 1900-03-01 and later are right) to `d`.
double ExcelDateSerial(Date d);

}  // namespace almanac::cli
