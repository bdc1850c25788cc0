// almanac risk: VaR, expected shortfall and contributions of a P&L file, and VaR backtests
// (issue 24; docs/risk.md).
#include "cli/commands_risk.h"

#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "almanac/data.h"
#include "almanac/risk.h"

namespace almanac::cli {
namespace {

// A CSV file with a header line, its cells kept as text until a column is asked for.
struct CsvTable {
  std::string name;
  std::vector<std::string> columns;
  std::vector<int64_t> lines;  // line of each row
  std::vector<std::vector<std::string>> rows;

  std::string ColumnList() const {
    std::string s;
    for (const auto& c : columns) s += (s.empty() ? "" : ", ") + QuoteForMessage(c);
    return s;
  }
  Result<size_t> Find(const std::string& column) const {
    for (size_t i = 0; i < columns.size(); ++i)
      if (columns[i] == column) return i;
    return NotFoundError(name + ": no column " + QuoteForMessage(column) + " (columns: " + ColumnList() + ")");
  }
  Result<double> Number(size_t row, size_t col) const {
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
  Result<std::vector<double>> Column(size_t col) const {
    std::vector<double> out(rows.size());
    for (size_t r = 0; r < rows.size(); ++r) {
      ALMANAC_ASSIGN_OR_RETURN(out[r], Number(r, col));
    }
    return out;
  }
};

Result<CsvTable> ReadCsvTable(const std::string& path) {
  if (path.empty()) return InvalidArgumentError("--pnl: name a CSV file");
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

Result<std::vector<double>> ParseLevels(const std::string& text, std::string_view option) {
  std::vector<double> out;
  for (const auto& part : SplitList({text})) {
    auto v = ParseFiniteDouble(part);
    if (!v.ok()) return InvalidArgumentError(std::string(option) + ": " + v.status().message());
    if (!(*v > 0 && *v < 1))
      return InvalidArgumentError(std::string(option) + ": level " + QuoteForMessage(part) +
                                  " must be in (0, 1), e.g. 0.99 for 99%");
    out.push_back(*v);
  }
  if (out.empty()) return InvalidArgumentError(std::string(option) + ": give at least one level, e.g. 0.99");
  return out;
}

Result<std::vector<std::string>> ParseMethods(const std::string& m) {
  if (m == "all") return std::vector<std::string>{"historical", "normal", "t"};
  if (m == "historical" || m == "normal" || m == "t") return std::vector<std::string>{m};
  return InvalidArgumentError("--method: unknown method " + QuoteForMessage(m) + ": expected historical, normal, t or all");
}

risk::ParametricOptions RiskOptions(const std::string& method, double dof) {
  return {.distribution = method == "t" ? risk::Distribution::kStudentT : risk::Distribution::kNormal, .dof = dof};
}

bool IsLabelColumn(const std::string& c) {
  const std::string l = ToLower(c);
  return l == "scenario" || l == "date" || l == "id";
}

Result<Table> VarTable(const CsvTable& csv, const RiskVarArgs& a, const std::vector<double>& levels,
                       const std::vector<std::string>& methods) {
  size_t col = 0;
  if (!a.column.empty()) {
    ALMANAC_ASSIGN_OR_RETURN(col, csv.Find(a.column));
  } else if (auto pnl = csv.Find("pnl"); pnl.ok()) {
    col = *pnl;
  } else if (csv.columns.size() != 1) {
    return InvalidArgumentError(csv.name + ": which column is the P&L? Name it with --column (columns: " + csv.ColumnList() +
                                "), or pass --positions for a scenario x position matrix");
  }
  ALMANAC_ASSIGN_OR_RETURN(std::vector<double> pnl, csv.Column(col));
  Table t{{"method", "level", "var", "es", "scenarios"}, {}};
  for (const auto& m : methods)
    for (double level : levels) {
      Result<risk::VaREs> r = m == "historical" ? risk::HistoricalVaREs(pnl, level)
                                                : risk::ParametricVaREs(pnl, level, RiskOptions(m, a.dof));
      if (!r.ok()) return r.status().WithContext(csv.name + ", column " + QuoteForMessage(csv.columns[col]) + ", " + m);
      t.Add({m, level, r->var, r->es, static_cast<int64_t>(pnl.size())});
    }
  return t;
}

Result<Table> ContributionTable(const CsvTable& csv, const RiskVarArgs& a, const std::vector<double>& levels,
                                const std::vector<std::string>& methods) {
  std::vector<size_t> cols;
  for (size_t c = 0; c < csv.columns.size(); ++c)
    if (!IsLabelColumn(csv.columns[c])) cols.push_back(c);
  if (cols.empty())
    return InvalidArgumentError(csv.name + ": --positions needs at least one position column besides scenario/date/id");
  risk::PositionPnl d{.scenarios = static_cast<int64_t>(csv.rows.size()), .positions = static_cast<int64_t>(cols.size())};
  d.pnl.reserve(csv.rows.size() * cols.size());
  for (size_t r = 0; r < csv.rows.size(); ++r)
    for (size_t c : cols) {
      ALMANAC_ASSIGN_OR_RETURN(double v, csv.Number(r, c));
      d.pnl.push_back(v);
    }
  Table t{{"method", "level", "position", "var", "es"}, {}};
  for (const auto& m : methods)
    for (double level : levels) {
      Result<risk::Contributions> r = m == "historical" ? risk::HistoricalContributions(d, level)
                                                        : risk::ParametricContributions(d, level, RiskOptions(m, a.dof));
      if (!r.ok()) return r.status().WithContext(csv.name + ", " + m);
      t.Add({m, level, "portfolio", r->total.var, r->total.es});
      for (size_t j = 0; j < cols.size(); ++j) t.Add({m, level, csv.columns[cols[j]], r->var[j], r->es[j]});
    }
  return t;
}

Result<bool> ParseIndicator(const CsvTable& csv, size_t row, size_t col) {
  const std::string v = ToLower(Trim(csv.rows[row][col]));
  if (v == "1" || v == "true") return true;
  if (v == "0" || v == "false") return false;
  return InvalidArgumentError(csv.name + " line " + std::to_string(csv.lines[row]) + ", column " +
                              QuoteForMessage(csv.columns[col]) + ": " + QuoteForMessage(csv.rows[row][col]) +
                              " is not an exception indicator (0, 1, true or false)");
}

}  // namespace

int RunRiskVar(const GlobalOptions& g, const RiskVarArgs& a) {
  auto levels = ParseLevels(a.levels, "--level");
  if (!levels.ok()) return ReportError(levels.status());
  auto methods = ParseMethods(a.method);
  if (!methods.ok()) return ReportError(methods.status());
  auto csv = ReadCsvTable(a.pnl);
  if (!csv.ok()) return ReportError(csv.status());
  auto t = a.positions ? ContributionTable(*csv, a, *levels, *methods) : VarTable(*csv, a, *levels, *methods);
  if (!t.ok()) return ReportError(t.status());
  Print(std::cout, *t, g.format);
  return kExitOk;
}

int RunRiskBacktest(const GlobalOptions& g, const RiskBacktestArgs& a) {
  if (a.var_column.empty() == a.exception_column.empty())
    return ReportError(InvalidArgumentError("name exactly one of --var-column and --exception-column"));
  auto levels = ParseLevels(a.level, "--level");
  if (!levels.ok()) return ReportError(levels.status());
  if (levels->size() != 1) return ReportError(InvalidArgumentError("--level: give one level for a backtest, e.g. 0.99"));
  const double level = levels->front();
  auto csv = ReadCsvTable(a.pnl);
  if (!csv.ok()) return ReportError(csv.status());
  Result<risk::VaRBacktest> bt = InternalError("unset");
  if (!a.var_column.empty()) {
    auto pc = csv->Find(a.pnl_column);
    if (!pc.ok()) return ReportError(pc.status());
    auto vc = csv->Find(a.var_column);
    if (!vc.ok()) return ReportError(vc.status());
    auto pnl = csv->Column(*pc);
    if (!pnl.ok()) return ReportError(pnl.status());
    auto var = csv->Column(*vc);
    if (!var.ok()) return ReportError(var.status());
    bt = risk::BacktestVaR(*pnl, *var, level);
  } else {
    auto ec = csv->Find(a.exception_column);
    if (!ec.ok()) return ReportError(ec.status());
    std::vector<bool> e(csv->rows.size());
    for (size_t r = 0; r < csv->rows.size(); ++r) {
      auto v = ParseIndicator(*csv, r, *ec);
      if (!v.ok()) return ReportError(v.status());
      e[r] = *v;
    }
    bt = risk::BacktestExceptions(e, level);
  }
  if (!bt.ok()) return ReportError(bt.status().WithContext(csv->name));
  PrintRecord(std::cout,
              {{"observations", bt->observations},
               {"level", bt->level},
               {"exceptions", bt->exceptions},
               {"expected_exceptions", bt->expected_exceptions},
               {"kupiec_lr", bt->kupiec.statistic},
               {"kupiec_p", bt->kupiec.p_value},
               {"independence_lr", bt->independence.statistic},
               {"independence_p", bt->independence.p_value},
               {"conditional_coverage_lr", bt->conditional_coverage.statistic},
               {"conditional_coverage_p", bt->conditional_coverage.p_value},
               {"n00", bt->n00},
               {"n01", bt->n01},
               {"n10", bt->n10},
               {"n11", bt->n11},
               {"binomial_cdf", bt->binomial_cdf},
               {"zone", std::string(risk::TrafficLightName(bt->zone))}},
              g.format);
  return kExitOk;
}

}  // namespace almanac::cli
