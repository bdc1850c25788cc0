#include "cli/exports.h"

#include <algorithm>
#include <map>
#include <ostream>
#include <set>

#include "cli/xlsx_writer.h"

namespace almanac::cli {
namespace {

// A cell change of a vintage matrix: from column `column` on, the period holds `cell`.
struct VintageChange {
  int32_t column;
  MatrixCell cell;
};

bool SameCell(const MatrixCell& a, const MatrixCell& b) {
  return a.state == b.state && (a.state != CellState::kValue || a.value == b.value);
}

std::string Compact(Date d) {
  std::string s = d.ToString();
  s.erase(std::remove(s.begin(), s.end(), '-'), s.end());
  return s;
}

// Sets cells from a series covering some periods; cells outside it are left alone.
void FillFrom(const TimeSeries& ts, int64_t ordinal, MatrixCell* cell) {
  if (ts.empty()) return;
  const int64_t i = ordinal - ts.start().ordinal();
  if (i < 0 || i >= ts.size()) return;
  const auto v = ts.at(i);
  *cell = v ? MatrixCell{CellState::kValue, *v} : MatrixCell{CellState::kMissing, 0};
}

}  // namespace

Result<PeriodMatrix> SnapshotWideMatrix(const store::Snapshot& snapshot) {
  if (snapshot.series.empty()) return FailedPreconditionError("snapshot " + snapshot.info.name + " holds no series");
  std::map<Frequency, std::vector<std::string>> by_frequency;
  for (const auto& s : snapshot.series) by_frequency[s.values.frequency()].push_back(s.key);
  if (by_frequency.size() > 1) {
    std::string what;
    for (const auto& [f, keys] : by_frequency) {
      what += (what.empty() ? "" : "; ") + std::string(FrequencyCode(f)) + ": " + keys.front();
      if (keys.size() > 1) what += " and " + std::to_string(keys.size() - 1) + " more";
    }
    return FailedPreconditionError("snapshot " + snapshot.info.name + " mixes frequencies (" + what +
                                   "): a wide table has one row per period; export the long form (without --wide and "
                                   "--xlsx) or make a snapshot of one frequency (snapshot create --series)");
  }
  PeriodMatrix m;
  m.frequency = by_frequency.begin()->first;
  bool any = false;
  for (const auto& s : snapshot.series) {
    m.columns.push_back(s.key);
    if (s.values.empty()) continue;
    m.first = any ? std::min(m.first, s.values.start().ordinal()) : s.values.start().ordinal();
    m.last = any ? std::max(m.last, s.values.end().ordinal()) : s.values.end().ordinal();
    any = true;
  }
  const store::Snapshot* snap = &snapshot;
  m.fill = [snap](int64_t ordinal, std::vector<MatrixCell>& cells) {
    for (size_t c = 0; c < snap->series.size(); ++c) FillFrom(snap->series[c].values, ordinal, &cells[c]);
  };
  return m;
}

PeriodMatrix SeriesWideMatrix(const std::string& key, const TimeSeries& values) {
  PeriodMatrix m;
  m.frequency = values.frequency();
  m.columns = {key};
  if (!values.empty()) {
    m.first = values.start().ordinal();
    m.last = values.end().ordinal();
  }
  const TimeSeries* ts = &values;
  m.fill = [ts](int64_t ordinal, std::vector<MatrixCell>& cells) { FillFrom(*ts, ordinal, &cells[0]); };
  return m;
}

Result<PeriodMatrix> VintageMatrix(store::SeriesStore& series, const std::string& key, std::optional<Date> as_of,
                                   std::vector<Date>* realtime_starts) {
  ALMANAC_ASSIGN_OR_RETURN(store::SeriesInfo info, series.GetSeries(key));
  ALMANAC_ASSIGN_OR_RETURN(std::vector<store::VintageInfo> vintages, series.ListVintages(key));
  std::set<Date> dates;
  for (const auto& v : vintages)
    if (!as_of || v.realtime_start <= *as_of) dates.insert(v.realtime_start);
  if (dates.empty()) {
    if (vintages.empty())
      return FailedPreconditionError("series " + key + " has no vintages: nothing was loaded into it");
    return FailedPreconditionError("series " + key + " has no vintage with realtime_start on or before " +
                                   as_of->ToString() + " (the first is " + vintages.front().realtime_start.ToString() +
                                   ")");
  }
  // Per period, the cell changes from one column to the next; `current` is the last column's.
  auto changes = std::make_shared<std::map<int64_t, std::vector<VintageChange>>>();
  std::map<int64_t, MatrixCell> current;
  PeriodMatrix m;
  m.frequency = info.frequency;
  int32_t column = 0;
  for (Date rt : dates) {
    ALMANAC_ASSIGN_OR_RETURN(TimeSeries ts, series.ReadAsOf(key, rt));
    m.columns.push_back(key + "_" + Compact(rt));
    realtime_starts->push_back(rt);
    std::map<int64_t, MatrixCell> next;
    for (int64_t i = 0; i < ts.size(); ++i) {
      const auto v = ts.at(i);
      next[ts.PeriodAt(i).ordinal()] = v ? MatrixCell{CellState::kValue, *v} : MatrixCell{CellState::kMissing, 0};
    }
    for (const auto& [ordinal, cell] : next) {
      auto it = current.find(ordinal);
      if (it == current.end() || !SameCell(it->second, cell)) (*changes)[ordinal].push_back({column, cell});
    }
    for (const auto& [ordinal, cell] : current)
      if (!next.count(ordinal) && cell.state != CellState::kNone) (*changes)[ordinal].push_back({column, MatrixCell{}});
    current = std::move(next);
    ++column;
  }
  if (!changes->empty()) {
    m.first = changes->begin()->first;
    m.last = changes->rbegin()->first;
  }
  m.fill = [changes](int64_t ordinal, std::vector<MatrixCell>& cells) {
    auto it = changes->find(ordinal);
    if (it == changes->end()) return;
    MatrixCell cell;
    size_t k = 0;
    for (size_t c = 0; c < cells.size(); ++c) {
      while (k < it->second.size() && it->second[k].column == static_cast<int32_t>(c)) cell = it->second[k++].cell;
      cells[c] = cell;
    }
  };
  return m;
}

namespace {

// Calls `row` with each row's period and cells.
template <typename Fn>
void ForEachMatrixRow(const PeriodMatrix& m, Fn&& row) {
  std::vector<MatrixCell> cells(m.columns.size());
  for (int64_t o = m.first; o <= m.last; ++o) {
    std::fill(cells.begin(), cells.end(), MatrixCell{});
    m.fill(o, cells);
    row(Period(m.frequency, o), cells);
  }
}

}  // namespace

void WriteMatrixCsv(std::ostream& out, const PeriodMatrix& m) {
  out << "date,period";
  for (const auto& c : m.columns) out << "," << CsvEscape(c);
  out << "\n";
  ForEachMatrixRow(m, [&](Period p, const std::vector<MatrixCell>& cells) {
    out << p.StartDate().ToString() << "," << p.ToString();
    for (const auto& c : cells) {
      out << ",";
      if (c.state == CellState::kValue)
        out << FormatDouble(c.value);
      else if (c.state == CellState::kMissing)
        out << "NA";
    }
    out << "\n";
  });
}

Table MatrixTable(const PeriodMatrix& m) {
  Table t;
  t.columns = {"date", "period"};
  t.columns.insert(t.columns.end(), m.columns.begin(), m.columns.end());
  ForEachMatrixRow(m, [&](Period p, const std::vector<MatrixCell>& cells) {
    std::vector<Json> row{p.StartDate().ToString(), p.ToString()};
    for (const auto& c : cells)
      row.push_back(c.state == CellState::kValue     ? Json(c.value)
                    : c.state == CellState::kMissing ? Json("NA")
                                                     : Json(nullptr));
    t.Add(std::move(row));
  });
  return t;
}

Result<bool> WantsXlsx(const std::string& output, bool xlsx_flag) {
  std::string lower = output;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  const bool by_name = lower.size() > 5 && lower.ends_with(".xlsx");
  if (!xlsx_flag && !by_name) return false;
  if (output.empty() || output == "-")
    return InvalidArgumentError("an .xlsx workbook cannot be written to standard output: pass -o FILE.xlsx");
  return true;
}

Status WriteXlsx(const std::string& path, const std::vector<std::pair<std::string, const PeriodMatrix*>>& matrices,
                 const std::vector<XlsxTable>& extra) {
  for (const auto& [sheet, m] : matrices) {
    if (m->last - m->first + 2 > kXlsxMaxRows)
      return OutOfRangeError("sheet " + sheet + " would have " + std::to_string(m->last - m->first + 1) +
                             " rows; Excel allows " + std::to_string(kXlsxMaxRows - 1) +
                             " below the header: export CSV instead");
    if (static_cast<int64_t>(m->columns.size()) + 2 > kXlsxMaxColumns)
      return OutOfRangeError("sheet " + sheet + " would have " + std::to_string(m->columns.size() + 2) +
                             " columns; Excel allows " + std::to_string(kXlsxMaxColumns) + ": export CSV instead");
  }
  ALMANAC_ASSIGN_OR_RETURN(auto book, XlsxWorkbook::Create(path));
  std::vector<XlsxCell> row;
  for (const auto& [sheet, m] : matrices) {
    std::vector<std::string> header{"date", "period"};
    header.insert(header.end(), m->columns.begin(), m->columns.end());
    std::vector<double> widths{11, 9};
    for (const auto& c : m->columns) widths.push_back(std::max<double>(10, static_cast<double>(c.size()) + 2));
    ALMANAC_RETURN_IF_ERROR(book->AddSheet(sheet, header, widths, 2));
    Status status;
    ForEachMatrixRow(*m, [&](Period p, const std::vector<MatrixCell>& cells) {
      if (!status.ok()) return;
      row.clear();
      row.push_back(XlsxCell::Of(p.StartDate()));
      row.push_back(XlsxCell::Of(p.ToString()));
      for (const auto& c : cells)
        row.push_back(c.state == CellState::kValue     ? XlsxCell::Of(c.value)
                      : c.state == CellState::kMissing ? XlsxCell::Of(std::string("NA"))
                                                       : XlsxCell::Blank());
      status = book->WriteRow(row);
    });
    ALMANAC_RETURN_IF_ERROR(status.WithContext("sheet " + sheet));
  }
  for (const auto& t : extra) {
    std::vector<double> widths;
    for (const auto& h : t.header) widths.push_back(std::max<double>(12, static_cast<double>(h.size()) + 2));
    ALMANAC_RETURN_IF_ERROR(book->AddSheet(t.sheet, t.header, widths));
    for (const auto& r : t.rows) {
      row.clear();
      for (size_t c = 0; c < r.size(); ++c) {
        const Json& v = r[c];
        const bool is_date = std::find(t.date_columns.begin(), t.date_columns.end(), c) != t.date_columns.end();
        if (v.is_null())
          row.push_back(XlsxCell::Blank());
        else if (v.is_number())
          row.push_back(XlsxCell::Of(v.get<double>()));
        else if (v.is_string() && is_date && Date::Parse(v.get<std::string>()).ok())
          row.push_back(XlsxCell::Of(*Date::Parse(v.get<std::string>())));
        else
          row.push_back(XlsxCell::Of(v.is_string() ? v.get<std::string>() : v.dump()));
      }
      ALMANAC_RETURN_IF_ERROR(book->WriteRow(row).WithContext("sheet " + t.sheet));
    }
  }
  return book->Close();
}

}  // namespace almanac::cli
