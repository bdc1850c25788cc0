#include "cli/xlsx_writer.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <mutex>

#include <unistd.h>
#include <xlsxwriter.h>

namespace almanac::cli {
namespace {

// The libxlsxwriter functions almanac uses, as (member, function).
#define ALMANAC_LIBXLSX_FUNCTIONS(X)                                                                          \
  X(workbook_new_opt, workbook_new_opt)                                                                       \
  X(workbook_add_worksheet, workbook_add_worksheet) X(workbook_add_format, workbook_add_format)               \
      X(workbook_close, workbook_close) X(format_set_bold, format_set_bold)                                   \
          X(format_set_num_format, format_set_num_format) X(worksheet_write_number, worksheet_write_number)   \
              X(worksheet_write_string, worksheet_write_string) X(worksheet_set_column, worksheet_set_column) \
                  X(worksheet_freeze_panes, worksheet_freeze_panes) X(strerror, lxw_strerror)

struct LibXlsx {
#define ALMANAC_LIBXLSX_MEMBER(member, function) decltype(&::function) member = nullptr;
  ALMANAC_LIBXLSX_FUNCTIONS(ALMANAC_LIBXLSX_MEMBER)
#undef ALMANAC_LIBXLSX_MEMBER
};

LibXlsx g_libxlsx;

Status LoadXlsx() {
  std::vector<std::string> candidates;
  if (const char* path = std::getenv("ALMANAC_LIBXLSXWRITER"); path != nullptr && *path != '\0')
    candidates.push_back(path);
  else
    candidates.push_back("libxlsxwriter.so.4");
  ALMANAC_ASSIGN_OR_RETURN(SharedLibrary lib, SharedLibrary::Open(candidates, "libxlsxwriter4"));
  LibXlsx loaded;
#define ALMANAC_LIBXLSX_RESOLVE(member, function) ALMANAC_RETURN_IF_ERROR(lib.Resolve(#function, &loaded.member));
  ALMANAC_LIBXLSX_FUNCTIONS(ALMANAC_LIBXLSX_RESOLVE)
#undef ALMANAC_LIBXLSX_RESOLVE
  g_libxlsx = loaded;
  return Status::Ok();
}

// Opens libxlsxwriter once per process (thread-safe; later calls return the first outcome).
Result<const LibXlsx*> LoadLibXlsx() {
  static std::once_flag once;
  static Status status;
  std::call_once(once, [] { status = LoadXlsx().WithContext("writing .xlsx files"); });
  if (!status.ok()) return status;
  return &g_libxlsx;
}

}  // namespace

double ExcelDateSerial(Date d) { return static_cast<double>(d.days() + 25569); }  // 1970-01-01 is 25569

Result<std::unique_ptr<XlsxWorkbook>> XlsxWorkbook::Create(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::is_directory(path, ec)) return InvalidArgumentError("cannot write " + path + ": it is a directory");
  const fs::path parent = fs::path(path).parent_path();
  if (!parent.empty() && !fs::is_directory(parent, ec))
    return PermissionDeniedError("cannot write " + path + ": no folder " + parent.string());
  ALMANAC_ASSIGN_OR_RETURN(const LibXlsx* lib, LoadLibXlsx());
  std::unique_ptr<XlsxWorkbook> book(new XlsxWorkbook(path, path + ".tmp-" + std::to_string(::getpid())));
  lxw_workbook_options options{};
  options.constant_memory = LXW_TRUE;
  options.use_zip64 = LXW_TRUE;
  book->book_ = lib->workbook_new_opt(book->tmp_path_.c_str(), &options);
  if (book->book_ == nullptr) return ResourceExhaustedError("libxlsxwriter could not start a workbook for " + path);
  book->bold_ = lib->workbook_add_format(book->book_);
  book->date_ = lib->workbook_add_format(book->book_);
  if (book->bold_ == nullptr || book->date_ == nullptr) return ResourceExhaustedError("libxlsxwriter: out of memory");
  lib->format_set_bold(book->bold_);
  lib->format_set_num_format(book->date_, "yyyy-mm-dd");
  return book;
}

XlsxWorkbook::~XlsxWorkbook() {
  if (book_ == nullptr) return;
  // Not closed: an error stopped the export. libxlsxwriter frees a workbook only by writing it.
  g_libxlsx.workbook_close(book_);
  std::remove(tmp_path_.c_str());
}

Status XlsxWorkbook::AddSheet(const std::string& name, const std::vector<std::string>& header,
                              const std::vector<double>& widths, int frozen_columns) {
  if (static_cast<int64_t>(header.size()) > kXlsxMaxColumns)
    return InvalidArgumentError("sheet " + name + " would have " + std::to_string(header.size()) +
                                " columns; Excel allows " + std::to_string(kXlsxMaxColumns));
  const LibXlsx& lib = g_libxlsx;
  sheet_ = lib.workbook_add_worksheet(book_, name.c_str());
  if (sheet_ == nullptr) return InternalError("libxlsxwriter refused the sheet name " + QuoteForMessage(name));
  for (size_t c = 0; c < widths.size() && c < header.size(); ++c)
    lib.worksheet_set_column(sheet_, static_cast<lxw_col_t>(c), static_cast<lxw_col_t>(c), widths[c], nullptr);
  lib.worksheet_freeze_panes(sheet_, 1, static_cast<lxw_col_t>(frozen_columns));
  for (size_t c = 0; c < header.size(); ++c) {
    const lxw_error e = lib.worksheet_write_string(sheet_, 0, static_cast<lxw_col_t>(c), header[c].c_str(), bold_);
    if (e != LXW_NO_ERROR) return InternalError("writing the header of sheet " + name + ": " + lib.strerror(e));
  }
  row_ = 1;
  columns_ = header.size();
  return Status::Ok();
}

Status XlsxWorkbook::WriteRow(const std::vector<XlsxCell>& cells) {
  ALMANAC_DCHECK(sheet_ != nullptr && cells.size() <= columns_);
  if (row_ >= kXlsxMaxRows)
    return OutOfRangeError("more than " + std::to_string(kXlsxMaxRows - 1) + " rows: Excel allows " +
                           std::to_string(kXlsxMaxRows) + " per sheet; export CSV instead");
  const LibXlsx& lib = g_libxlsx;
  const auto row = static_cast<lxw_row_t>(row_);
  for (size_t c = 0; c < cells.size(); ++c) {
    const auto col = static_cast<lxw_col_t>(c);
    const XlsxCell& cell = cells[c];
    lxw_error e = LXW_NO_ERROR;
    switch (cell.kind) {
      case XlsxCell::Kind::kBlank:
        break;
      case XlsxCell::Kind::kNumber:
        e = lib.worksheet_write_number(sheet_, row, col, cell.number, nullptr);
        break;
      case XlsxCell::Kind::kDate:
        e = lib.worksheet_write_number(sheet_, row, col, ExcelDateSerial(cell.date), date_);
        break;
      case XlsxCell::Kind::kText:
        e = lib.worksheet_write_string(sheet_, row, col, cell.text.c_str(), nullptr);
        break;
    }
    if (e != LXW_NO_ERROR)
      return InvalidArgumentError("row " + std::to_string(row_ + 1) + ", column " + std::to_string(c + 1) + ": " +
                                  lib.strerror(e));
  }
  ++row_;
  return Status::Ok();
}

Status XlsxWorkbook::Close() {
  const lxw_error e = g_libxlsx.workbook_close(book_);
  book_ = nullptr;
  if (e != LXW_NO_ERROR) {
    std::remove(tmp_path_.c_str());
    return PermissionDeniedError("cannot write " + path_ + ": " + g_libxlsx.strerror(e));
  }
  std::error_code ec;
  std::filesystem::rename(tmp_path_, path_, ec);
  if (ec) {
    std::remove(tmp_path_.c_str());
    return PermissionDeniedError("cannot write " + path_ + ": " + ec.message());
  }
  return Status::Ok();
}

}  // namespace almanac::cli
