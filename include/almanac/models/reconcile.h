// File: almanac/models/reconcile.h
//
// Forecast reconciliation for hierarchical and grouped series (Hyndman, Ahmed, Athanasopoulos
// & Shang 2011; Wickramasuriya, Athanasopoulos & Hyndman 2019, "MinT"): base forecasts of every
// series of a hierarchy (a country and its regions, GDP and its components, or both groupings
// of the same bottom series) are made coherent (each aggregate equals the sum of its parts) by
//   y~ = S G y^,   G = (S' W^-1 S)^-1 S' W^-1,
// where S is the summing matrix (nodes x bottom series) and W depends on the method. Part of
// the models component (umbrella almanac/models.h); depends on core only.
//
//   ALMANAC_ASSIGN_OR_RETURN(Hierarchy h, BuildHierarchy({"C", "I", "G", "NX"},
//                                                        {{"GDP", {"C", "I", "G", "NX"}}}));
//   ALMANAC_ASSIGN_OR_RETURN(auto method, ParseReconcileMethod("mint_shrink"));
//   ALMANAC_ASSIGN_OR_RETURN(Reconciliation r, Reconcile(h, method, base, residuals));
//   // r.forecasts[i][k]: node i (h.nodes order), step k + 1.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "almanac/core/status.h"

namespace almanac::models {

// The summing matrix of a hierarchy or grouping: nodes are the aggregates (in the order given)
// followed by the bottom series; s[i][j] = 1 when bottom series j is part of node i.
struct Hierarchy {
  std::vector<std::string> nodes;
  std::vector<std::string> bottom;
  std::vector<std::vector<double>> s;  // nodes.size() x bottom.size()
};

// One aggregate: its name and its parts, each a bottom series or another aggregate (a
// hierarchy of any depth). Several aggregates over the same bottom series make a grouped
// structure (e.g. the country by region and by sector). InvalidArgument for an empty or
// duplicate name, an aggregate without parts, an unknown part, a cycle, a part listed twice
// (it would count twice), or two nodes with the same sum.
Result<Hierarchy> BuildHierarchy(std::vector<std::string> bottom,
                                 const std::vector<std::pair<std::string, std::vector<std::string>>>& aggregates);

// A hierarchy file (YAML):
//   bottom: [N1, N2, S1]          # the bottom-level series, in order
//   aggregates:                   # each aggregate and its parts (bottom series or aggregates)
//     Country: [North, S1]
//     North: [N1, N2]
// Aggregates keep the file's order. InvalidArgument (naming `file` and the line) for malformed
// YAML, unknown keys, and BuildHierarchy's errors.
Result<Hierarchy> ParseHierarchyYaml(std::string_view text, const std::string& file);

enum class ReconcileMethod {
  kBottomUp,       // G selects the bottom forecasts
  kOls,            // W = I: the orthogonal projection onto the coherent subspace
  kWlsStructural,  // W = diag(S 1): each node weighted by its number of bottom series
  kWlsVariance,    // W = diag of the in-sample residual variances (needs residuals)
  kMintShrink,     // W = Schafer-Strimmer shrinkage of the residual covariance towards its
                   // diagonal (needs residuals), as R hts's MinT(covariance = "shr")
};

// "bottom_up", "ols", "wls_struct", "wls_var", "mint_shrink". InvalidArgument naming the choices.
Result<ReconcileMethod> ParseReconcileMethod(std::string_view name);
const char* ReconcileMethodName(ReconcileMethod method);

struct Reconciliation {
  std::vector<std::vector<double>> forecasts;  // nodes x horizon, coherent
  std::vector<std::vector<double>> g;          // bottom x nodes
  double shrinkage = -1;                       // MinT's lambda in [0, 1]; -1 for other methods
};

// base: one row per node (h.nodes order), all of the same length (the horizon). residuals: one
// row per node of in-sample one-step errors over the same T periods (T >= 2), used by
// kWlsVariance and kMintShrink (ignored otherwise); they are taken as mean-zero, as hts does
// (W is the uncentred cross-product / T). InvalidArgument for mismatched shapes, a NaN, missing
// residuals, a node with zero residual variance, or a singular S' W^-1 S.
Result<Reconciliation> Reconcile(const Hierarchy& h, ReconcileMethod method,
                                 const std::vector<std::vector<double>>& base,
                                 const std::vector<std::vector<double>>& residuals = {});

}  // namespace almanac::models
