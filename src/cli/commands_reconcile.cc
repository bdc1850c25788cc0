// almanac reconcile: hierarchical and grouped forecast reconciliation (issue 25;
// docs/reconcile.md).
#include "cli/commands_reconcile.h"

#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "almanac/models.h"
#include "cli/csv_table.h"

namespace almanac::cli {
namespace {

// One row per node of `h` (its order) from the columns of `csv` named after the nodes; the
// other columns' indices go to *labels. NotFound naming every missing series.
Result<std::vector<std::vector<double>>> NodeRows(const CsvTable& csv, const models::Hierarchy& h,
                                                  std::vector<size_t>* labels) {
  std::vector<std::vector<double>> rows;
  std::string missing;
  std::set<size_t> used;
  for (const std::string& node : h.nodes) {
    auto col = csv.Find(node);
    if (!col.ok()) {
      missing += (missing.empty() ? "" : ", ") + QuoteForMessage(node);
      continue;
    }
    used.insert(*col);
    ALMANAC_ASSIGN_OR_RETURN(std::vector<double> v, csv.Column(*col));
    rows.push_back(std::move(v));
  }
  if (!missing.empty())
    return NotFoundError(csv.name + ": no column for the series " + missing + " of the hierarchy (columns: " +
                         csv.ColumnList() + ")");
  if (labels != nullptr)
    for (size_t c = 0; c < csv.columns.size(); ++c)
      if (!used.count(c)) labels->push_back(c);
  return rows;
}

Result<models::Hierarchy> ReadHierarchy(const std::string& path) {
  if (path.empty()) return InvalidArgumentError("--hierarchy: name a YAML file");
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError("--hierarchy: cannot read " + QuoteForMessage(path));
  std::stringstream ss;
  ss << in.rdbuf();
  return models::ParseHierarchyYaml(ss.str(), path);
}

Result<Table> Reconciled(const ReconcileArgs& a, double* shrinkage) {
  ALMANAC_ASSIGN_OR_RETURN(models::ReconcileMethod method, models::ParseReconcileMethod(a.method));
  ALMANAC_ASSIGN_OR_RETURN(models::Hierarchy h, ReadHierarchy(a.hierarchy));
  ALMANAC_ASSIGN_OR_RETURN(CsvTable fc, ReadCsvTable(a.forecasts, "--forecasts"));
  std::vector<size_t> labels;
  ALMANAC_ASSIGN_OR_RETURN(auto base, NodeRows(fc, h, &labels));
  std::vector<std::vector<double>> residuals;
  const bool needs_residuals =
      method == models::ReconcileMethod::kWlsVariance || method == models::ReconcileMethod::kMintShrink;
  if (needs_residuals && a.residuals.empty())
    return InvalidArgumentError("--method " + a.method +
                                " weighs the series by their in-sample errors: pass them with --residuals FILE.csv "
                                "(or use ols, wls_struct or bottom_up)");
  if (needs_residuals) {
    ALMANAC_ASSIGN_OR_RETURN(CsvTable res, ReadCsvTable(a.residuals, "--residuals"));
    ALMANAC_ASSIGN_OR_RETURN(residuals, NodeRows(res, h, nullptr));
  }
  ALMANAC_ASSIGN_OR_RETURN(models::Reconciliation r, models::Reconcile(h, method, base, residuals));
  *shrinkage = r.shrinkage;
  Table t;
  for (size_t c : labels) t.columns.push_back(fc.columns[c]);
  for (const auto& node : h.nodes) t.columns.push_back(node);
  for (size_t k = 0; k < fc.rows.size(); ++k) {
    std::vector<Json> row;
    for (size_t c : labels) row.push_back(fc.rows[k][c]);
    for (size_t i = 0; i < h.nodes.size(); ++i) row.push_back(r.forecasts[i][k]);
    t.Add(std::move(row));
  }
  return t;
}

}  // namespace

int RunReconcile(const GlobalOptions& g, const ReconcileArgs& a) {
  double shrinkage = -1;
  auto t = Reconciled(a, &shrinkage);
  if (!t.ok()) return ReportError(t.status());
  if (shrinkage >= 0) std::cerr << "mint_shrink: shrinkage intensity lambda = " << FormatDouble(shrinkage) << "\n";
  Print(std::cout, *t, g.format);
  return 0;
}

}  // namespace almanac::cli
