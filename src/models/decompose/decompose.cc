#include "models/decompose/decompose.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "almanac/core/format.h"

namespace almanac::models {
namespace {

// R: qnorm(0.95).
constexpr double kZ95 = 1.6448536269514722;

}  // namespace

Result<Decomposition> ClassicalDecompose(std::span<const double> y, int period, DecomposeType type) {
  const int n = static_cast<int>(y.size());
  const int m = period;
  if (m < 2)
    return InvalidArgumentError("classical decomposition needs a seasonal period of at least 2, got " +
                                std::to_string(m));
  int nvalid = 0;
  for (double v : y) nvalid += !std::isnan(v);
  if (nvalid < 2 * m)
    return InvalidArgumentError("classical decomposition needs at least two full periods (" + std::to_string(2 * m) +
                                " observations), got " + std::to_string(nvalid));
  // Centred moving average: an odd-length filter (m + 1 weights for even m, m for odd m).
  std::vector<double> w;
  if (m % 2 == 0) {
    w.assign(static_cast<size_t>(m + 1), 1.0 / m);
    w.front() = w.back() = 0.5 / m;
  } else {
    w.assign(static_cast<size_t>(m), 1.0 / m);
  }
  const int half = static_cast<int>(w.size()) / 2;
  Decomposition d;
  d.trend.assign(static_cast<size_t>(n), std::nan(""));
  for (int t = half; t + half < n; ++t) {
    double s = 0;
    for (int k = -half; k <= half; ++k) s += w[k + half] * y[t + k];
    d.trend[t] = s;  // NaN when any input is NaN, as R's filter()
  }
  std::vector<double> sum(static_cast<size_t>(m), 0.0);
  std::vector<int> count(static_cast<size_t>(m), 0);
  for (int t = 0; t < n; ++t) {
    const double detrended = type == DecomposeType::kAdditive ? y[t] - d.trend[t] : y[t] / d.trend[t];
    if (std::isnan(detrended)) continue;
    sum[t % m] += detrended;
    ++count[t % m];
  }
  d.figure.resize(static_cast<size_t>(m));
  double total = 0;
  for (int i = 0; i < m; ++i) {
    if (count[i] == 0)
      return InvalidArgumentError("classical decomposition: no detrended value for position " + std::to_string(i + 1) +
                                  " of the seasonal cycle (too many missing values)");
    d.figure[i] = sum[i] / count[i];
    total += d.figure[i];
  }
  const double mean = total / m;
  for (double& f : d.figure) f = type == DecomposeType::kAdditive ? f - mean : f / mean;
  d.seasonal.resize(static_cast<size_t>(n));
  for (int t = 0; t < n; ++t) d.seasonal[t] = d.figure[t % m];
  return d;
}

std::vector<double> Autocorrelations(std::span<const double> y, int max_lag) {
  const size_t n = y.size();
  std::vector<double> r(static_cast<size_t>(std::max(0, max_lag)), 0.0);
  if (n == 0) return r;
  double mean = 0;
  for (double v : y) mean += v;
  mean /= static_cast<double>(n);
  double c0 = 0;
  for (double v : y) c0 += (v - mean) * (v - mean);
  if (!(c0 > 0)) return r;
  for (int k = 1; k <= max_lag && static_cast<size_t>(k) < n; ++k) {
    double ck = 0;
    for (size_t t = 0; t + k < n; ++t) ck += (y[t] - mean) * (y[t + k] - mean);
    r[k - 1] = ck / c0;
  }
  return r;
}

bool IsConstant(std::span<const double> y) {
  // all.equal(target = y, current = rep(y[1], n)): mean |y - y1| relative to mean |y|.
  constexpr double kTol = 1.5e-8;
  double first = std::nan("");
  for (double v : y)
    if (!std::isnan(v)) {
      first = v;
      break;
    }
  if (std::isnan(first)) return true;
  double diff = 0, mag = 0;
  int n = 0;
  for (double v : y) {
    if (std::isnan(v)) continue;
    diff += std::fabs(v - first);
    mag += std::fabs(v);
    ++n;
  }
  diff /= n;
  mag /= n;
  if (std::isfinite(mag) && mag > kTol) diff /= mag;
  return diff <= kTol;
}

SeasonalityTest TestSeasonality(std::span<const double> y, int period, int min_length) {
  SeasonalityTest t;
  const int n = static_cast<int>(y.size());
  const int m = period;
  if (m < 2) {
    t.reason = "non-seasonal data (period " + std::to_string(m) + ")";
    return t;
  }
  if (n < min_length) {
    t.reason = "too short for the seasonality test (" + std::to_string(n) + " observations, needs " +
               std::to_string(min_length) + ")";
    return t;
  }
  if (IsConstant(y)) {
    t.reason = "constant series";
    return t;
  }
  const std::vector<double> r = Autocorrelations(y, m);
  double s = 0;
  for (int k = 0; k < m - 1; ++k) s += r[k] * r[k];
  t.acf_m = r[m - 1];
  t.threshold = kZ95 * std::sqrt((1 + 2 * s) / n);
  t.seasonal = std::fabs(t.acf_m) > t.threshold;
  return t;
}

Result<std::vector<double>> FillMissing(std::span<const double> y, std::string_view model,
                                        std::vector<std::string>* notes) {
  size_t first = 0;
  while (first < y.size() && std::isnan(y[first])) ++first;
  if (first == y.size()) return InvalidArgumentError(std::string(model) + ": the series has no observations");
  if (std::isnan(y.back()))
    return InvalidArgumentError(std::string(model) +
                                ": the series ends with a missing value; drop trailing missing values first so the "
                                "forecast origin is the last observation");
  std::vector<double> out(y.begin() + static_cast<long>(first), y.end());
  int filled = 0;
  for (size_t i = 1; i < out.size(); ++i) {
    if (!std::isnan(out[i])) continue;
    size_t j = i;
    while (std::isnan(out[j])) ++j;  // the series ends with a value, so j < size
    const double a = out[i - 1], b = out[j];
    for (size_t k = i; k < j; ++k) {
      out[k] = a + (b - a) * static_cast<double>(k - i + 1) / static_cast<double>(j - i + 1);
      ++filled;
    }
    i = j;
  }
  if (first > 0)
    notes->push_back(std::to_string(first) + " leading missing value" + (first > 1 ? "s" : "") + " dropped");
  if (filled > 0)
    notes->push_back(std::to_string(filled) + " missing value" + (filled > 1 ? "s" : "") +
                     " filled by linear interpolation");
  return out;
}

Result<SeasonalAdjustment> AdjustSeasonality(std::span<const double> y, int period, std::string_view mode,
                                             int min_length, std::vector<std::string>* notes) {
  SeasonalAdjustment a;
  a.period = std::max(1, period);
  a.adjusted.assign(y.begin(), y.end());
  const int n = static_cast<int>(y.size());
  if (mode == "none") return a;
  if (period < 2) {
    if (mode == "multiplicative")
      notes->push_back("seasonal adjustment was asked for, but the period is 1 (non-seasonal data); forecasting "
                       "without seasonal adjustment");
    return a;
  }
  if (mode == "auto") {
    a.test = TestSeasonality(y, period, min_length);
    if (!a.test.seasonal) return a;
  } else if (mode == "multiplicative") {
    if (n < 2 * period) {
      notes->push_back("seasonal decomposition needs two full periods (" + std::to_string(2 * period) +
                       " observations); forecasting without seasonal adjustment");
      return a;
    }
  } else {
    return InvalidArgumentError("unknown seasonal mode '" + std::string(mode) +
                                "' (expected \"auto\", \"multiplicative\" or \"none\")");
  }
  for (double v : y) {
    if (!(v > 0)) {
      notes->push_back("the series is seasonal but has a non-positive value (" + FormatDouble(v) +
                       "); multiplicative decomposition is undefined, forecasting without seasonal adjustment");
      return a;
    }
  }
  ALMANAC_ASSIGN_OR_RETURN(Decomposition d, ClassicalDecompose(y, period, DecomposeType::kMultiplicative));
  for (double f : d.figure) {
    if (!(std::fabs(f) >= 1e-4)) {
      notes->push_back("seasonal indices close to zero; forecasting without seasonal adjustment");
      return a;
    }
  }
  a.seasonal = true;
  a.figure = std::move(d.figure);
  for (int t = 0; t < n; ++t) a.adjusted[t] = y[t] / a.Index(t);
  return a;
}

}  // namespace almanac::models
