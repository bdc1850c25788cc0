// Helpers shared by the model tests (test-only): the usual interval levels, a registry with
// every built-in model, a relative error for comparisons with R's goldens, and the macro data
// of the VAR goldens.
#pragma once

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "almanac/core/json.h"
#include "almanac/models.h"
#include "models/testing/golden_csv.h"

namespace almanac::models::testing {

// The interval levels most tests ask for, as R's forecast() does by default.
inline constexpr double kLevels[] = {80, 95};

// A registry with every built-in model type.
inline ForecasterRegistry Builtins() {
  ForecasterRegistry r;
  RegisterBuiltinModels(r);
  return r;
}

// |a - b| relative to max(1, |b|).
inline double RelErr(double a, double b) { return std::fabs(a - b) / std::max(1.0, std::fabs(b)); }

// The quarterly US macro system of statsmodels' macrodata (testdata/models/var/
// macrodata_goldens.json: its variable names and data, from 1959Q2), as one MultiInput.
inline MultiInput MacroData() {
  std::ifstream in(std::string(ALMANAC_SOURCE_DIR) + "/testdata/models/var/macrodata_goldens.json");
  std::stringstream ss;
  ss << in.rdbuf();
  const Json g = ParseJson(ss.str()).value();
  MultiInput d;
  d.names = g["names"].get<std::vector<std::string>>();
  d.values.assign(d.names.size(), {});
  for (const auto& row : g["data"])
    for (size_t i = 0; i < d.names.size(); ++i) d.values[i].push_back(row[i].get<double>());
  d.start = Period::Parse("1959Q2").value();
  return d;
}

}  // namespace almanac::models::testing
