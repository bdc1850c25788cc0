// almanac risk: VaR, expected shortfall and contributions of a P&L file, and VaR backtests
// (issue 24; docs/risk.md).
#include "cli/commands_risk.h"

#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "almanac/data.h"
#include "almanac/risk.h"
#include "cli/csv_table.h"

namespace almanac::cli {
namespace {

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
  auto csv = ReadCsvTable(a.pnl, "--pnl");
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
  auto csv = ReadCsvTable(a.pnl, "--pnl");
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
