// Test helpers: reads testdata/models/arima/goldens.json (written by make_goldens.R from
// R 4.2 / forecast 8.20). Test-only.
#pragma once

#include <cmath>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "almanac/core/json.h"

namespace almanac::models::arima::testing {

inline const Json& Goldens() {
  static const Json* kGoldens = [] {
    std::ifstream in(ALMANAC_SOURCE_DIR "/testdata/models/arima/goldens.json");
    std::stringstream ss;
    ss << in.rdbuf();
    auto parsed = ParseJson(ss.str());
    return new Json(parsed.ok() ? *parsed : Json::object());
  }();
  return *kGoldens;
}

// Numbers as written by the R script: null is NA, "Infinity" strings are infinities.
inline double GNum(const Json& j) {
  if (j.is_null()) return std::numeric_limits<double>::quiet_NaN();
  if (j.is_string()) return j.get<std::string>() == "-Infinity" ? -INFINITY : INFINITY;
  return j.get<double>();
}

inline std::vector<double> GVec(const Json& j) {
  std::vector<double> out;
  for (const auto& v : j) out.push_back(GNum(v));
  return out;
}

struct GoldenSeries {
  std::vector<double> y;
  int m = 1;
};

inline GoldenSeries Series(const std::string& name) {
  for (const auto& s : Goldens()["series"])
    if (s["name"] == name) return {GVec(s["y"]), s["m"].get<int>()};
  ADD_FAILURE() << "no golden series " << name;
  return {};
}

// Largest |a - b| / scale over the vectors (sizes must match).
inline double MaxRelDiff(const std::vector<double>& a, const std::vector<double>& b, double scale) {
  if (a.size() != b.size()) return INFINITY;
  double worst = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::isnan(a[i]) && std::isnan(b[i])) continue;
    worst = std::max(worst, std::abs(a[i] - b[i]) / scale);
  }
  return worst;
}

// Mean absolute value of the non-missing entries (a scale for tolerances).
inline double Scale(const std::vector<double>& v) {
  double s = 0;
  int n = 0;
  for (double x : v)
    if (!std::isnan(x)) {
      s += std::abs(x);
      ++n;
    }
  return n ? s / n : 1.0;
}

}  // namespace almanac::models::arima::testing
