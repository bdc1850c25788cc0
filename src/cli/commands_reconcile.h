// `almanac reconcile` (issue 25; cli-internal): makes base forecasts of a hierarchy or grouping
// of series coherent (docs/reconcile.md). Reads files only; needs no workspace.
#pragma once

#include <string>

#include "cli/commands.h"

namespace almanac::cli {

// almanac reconcile --hierarchy FILE.yaml --forecasts FILE.csv [--residuals FILE.csv]
//                   [--method bottom_up|ols|wls_struct|wls_var|mint_shrink]
struct ReconcileArgs {
  std::string hierarchy;  // YAML: bottom + aggregates (models::ParseHierarchyYaml)
  std::string forecasts;  // CSV: one column per series of the hierarchy, one row per step;
                          // other columns (h, period, ...) are labels, printed unchanged
  std::string residuals;  // CSV in the same form: in-sample one-step errors (wls_var, mint_shrink)
  std::string method = "mint_shrink";
};
int RunReconcile(const GlobalOptions& g, const ReconcileArgs& a);

}  // namespace almanac::cli
