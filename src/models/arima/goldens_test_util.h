// Test helpers: reads testdata/models/arima/goldens.json (written by make_goldens.R from
// R 4.2 / forecast 8.20). Test-only.
#pragma once

#include <cmath>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "almanac/core/json.h"

namespace almanac::models::arima::testing {

// Tolerances against R. Stationary models (d = D = 0) use R's objective and R's optimiser
// path and agree to ~1e-12. For differenced models almanac optimises the exact likelihood of
// the differenced data while R optimises its diffuse approximation (kappa = 1e6), so the
// optimum moves by O(1/kappa): coefficients agree to ~1e-4 (far inside their standard
// errors), the log-likelihood (evaluated with R's filter at the optimum) to ~5e-7, sigma2 to
// ~5e-5 relative and forecasts/bounds to ~2e-5 of the series level. See the REPORT lines
// (ALMANAC_ARIMA_REPORT=1) for the per-case figures.
inline constexpr double kLoglikTol = 1e-5;     // absolute, also for AIC/AICc/BIC (x2)
inline constexpr double kCoefTol = 2e-4;       // absolute, relative to max(1, |coef|)
inline constexpr double kSigma2RelTol = 1e-4;  // relative
inline constexpr double kForecastTol = 5e-5;   // relative to the mean level of the series

inline const std::string& GoldensText() {
  static const std::string* kText = [] {
    std::ifstream in(ALMANAC_SOURCE_DIR "/testdata/models/arima/goldens.json");
    std::stringstream ss;
    ss << in.rdbuf();
    return new std::string(ss.str());
  }();
  return *kText;
}

inline const Json& Goldens() {
  static const Json* kGoldens = [] {
    auto parsed = ParseJson(GoldensText());
    return new Json(parsed.ok() ? *parsed : Json::object());
  }();
  return *kGoldens;
}

// The "name" of each case of the top-level array `section`, read by scanning the text for its
// structure, without building the document: gtest registers the cases whenever the binary
// starts, and ctest starts it once per test (parsing the 214 KB costs 0.06 s per start under
// ASan, 300 starts). GoldenCaseNamesAgreeWithTheParsedFile (arima_test.cc) checks it against
// the parsed file. Names are plain (no escapes), as make_goldens.R writes them.
inline std::vector<std::string> GoldenCaseNames(const std::string& section) {
  const std::string& t = GoldensText();
  std::vector<std::string> names;
  int depth = 0;
  bool in_section = false;
  for (size_t i = 0; i < t.size(); ++i) {
    const char c = t[i];
    if (c == '{' || c == '[') {
      ++depth;
    } else if (c == '}' || c == ']') {
      if (--depth == 1 && in_section) break;  // the section's array closed
    } else if (c == '"') {
      size_t end = i + 1;
      while (end < t.size() && t[end] != '"') end += t[end] == '\\' ? 2 : 1;
      const std::string_view token(t.data() + i + 1, end - i - 1);
      size_t next = end + 1;
      while (next < t.size() && (t[next] == ' ' || t[next] == '\n' || t[next] == '\r' || t[next] == '\t')) ++next;
      const bool is_key = next < t.size() && t[next] == ':';
      if (is_key && depth == 1) in_section = token == section;
      // Top-level object 1, the section's array 2, a case 3: its own "name".
      if (is_key && in_section && depth == 3 && token == "name") {
        const size_t open = t.find('"', next);
        const size_t close = t.find('"', open + 1);
        if (open == std::string::npos || close == std::string::npos) break;
        names.emplace_back(t, open + 1, close - open - 1);
        i = close;
        continue;
      }
      i = end;
    }
  }
  return names;
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
