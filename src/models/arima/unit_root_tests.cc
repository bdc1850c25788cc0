#include "models/arima/unit_root_tests.h"

#include <cmath>
#include <limits>

#include "almanac/core/time_series.h"
#include "models/arima/stl.h"

namespace almanac::models::arima {
namespace {

std::vector<double> DropMissing(std::span<const double> x) {
  std::vector<double> out;
  for (double v : x)
    if (!std::isnan(v)) out.push_back(v);
  return out;
}

std::vector<double> LagDiff(const std::vector<double>& x, int lag) {
  std::vector<double> out;
  for (size_t i = static_cast<size_t>(lag); i < x.size(); ++i) out.push_back(x[i] - x[i - lag]);
  return out;
}

// Sample variance over non-missing values (n - 1 denominator).
double Variance(const std::vector<double>& x) {
  double s = 0;
  int n = 0;
  for (double v : x)
    if (!std::isnan(v)) {
      s += v;
      ++n;
    }
  if (n < 2) return kNaN;
  const double mean = s / n;
  double ss = 0;
  for (double v : x)
    if (!std::isnan(v)) ss += (v - mean) * (v - mean);
  return ss / (n - 1);
}

// Linear interpolation of interior gaps; leading/trailing gaps take the nearest value.
std::vector<double> FillLinear(std::span<const double> x) {
  std::vector<double> out(x.begin(), x.end());
  const int n = static_cast<int>(out.size());
  int prev = -1;
  for (int i = 0; i < n; ++i) {
    if (std::isnan(out[i])) continue;
    if (prev < 0) {
      for (int j = 0; j < i; ++j) out[j] = out[i];
    } else if (i - prev > 1) {
      for (int j = prev + 1; j < i; ++j) out[j] = out[prev] + (out[i] - out[prev]) * (j - prev) / (i - prev);
    }
    prev = i;
  }
  if (prev >= 0)
    for (int j = prev + 1; j < n; ++j) out[j] = out[prev];
  return out;
}

bool KpssSaysDifference(const std::vector<double>& x, double alpha) {
  const int lags = static_cast<int>(std::trunc(3 * std::sqrt(static_cast<double>(x.size())) / 13));
  return KpssPValue(KpssStatistic(x, lags)) < alpha;
}

}  // namespace

bool IsConstant(std::span<const double> x) {
  if (x.empty()) return true;
  const double x0 = x[0];
  const bool x0_na = std::isnan(x0);
  double sum_diff = 0, sum_abs = 0;
  int count = 0;
  for (double v : x) {
    if (std::isnan(v) != x0_na) return false;  // 'is.NA' value mismatch
    if (std::isnan(v) || v == x0) continue;
    sum_diff += std::abs(v - x0);
    sum_abs += std::abs(v);
    ++count;
  }
  if (count == 0) return true;
  constexpr double kTol = 1.5e-8;
  double xy = sum_diff / count;
  const double xn = sum_abs / count;
  if (std::isfinite(xn) && xn > kTol) xy /= xn;
  return !(std::isnan(xy) || xy > kTol);
}

double KpssStatistic(std::span<const double> x, int lags) {
  const int n = static_cast<int>(x.size());
  double mean = 0;
  for (double v : x) mean += v;
  mean /= n;
  std::vector<double> res(n);
  for (int i = 0; i < n; ++i) res[i] = x[i] - mean;
  double s = 0, num = 0, s2 = 0;
  for (int i = 0; i < n; ++i) {
    s += res[i];
    num += s * s;
    s2 += res[i] * res[i];
  }
  num /= static_cast<double>(n) * n;
  s2 /= n;
  if (lags > 0) {
    double acc = 0;
    for (int k = 1; k <= lags; ++k) {
      double cov = 0;
      for (int t = k; t < n; ++t) cov += res[t] * res[t - k];
      acc += (1.0 - static_cast<double>(k) / (lags + 1)) * cov;
    }
    s2 += 2.0 / n * acc;
  }
  return num / s2;
}

double KpssPValue(double stat) {
  static constexpr double kCrit[] = {0.347, 0.463, 0.574, 0.739};
  static constexpr double kLevel[] = {0.10, 0.05, 0.025, 0.01};
  if (std::isnan(stat)) return kNaN;
  if (stat <= kCrit[0]) return kLevel[0];
  if (stat >= kCrit[3]) return kLevel[3];
  for (int i = 0; i < 3; ++i)
    if (stat <= kCrit[i + 1])
      return kLevel[i] + (kLevel[i + 1] - kLevel[i]) * (stat - kCrit[i]) / (kCrit[i + 1] - kCrit[i]);
  return kLevel[3];
}

int NDiffs(std::span<const double> xin, double alpha, int max_d) {
  std::vector<double> x = DropMissing(xin);
  int d = 0;
  if (x.empty() || IsConstant(x)) return d;
  bool dodiff = KpssSaysDifference(x, alpha);
  while (dodiff && d < max_d) {
    ++d;
    x = LagDiff(x, 1);
    if (x.empty() || IsConstant(x)) return d;
    dodiff = KpssSaysDifference(x, alpha);
  }
  return d;
}

double SeasonalStrength(std::span<const double> x, int m) {
  std::vector<double> filled = FillLinear(x);
  auto fit = Stl(filled, m);
  if (!fit.ok()) return kNaN;
  std::vector<double> rem(x.size()), rs(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    // mstl() puts the missing values back into the remainder.
    rem[i] = std::isnan(x[i]) ? kNaN : fit->remainder[i];
    rs[i] = rem[i] + fit->seasonal[i];
  }
  const double v = 1 - Variance(rem) / Variance(rs);
  if (std::isnan(v)) return kNaN;
  return std::max(0.0, std::min(1.0, v));
}

int NSDiffs(std::span<const double> xin, int m, int max_D) {
  std::vector<double> x(xin.begin(), xin.end());
  int D = 0;
  if (IsConstant(x)) return D;
  if (m <= 1 || m >= static_cast<int>(x.size())) return 0;
  // A failed test (NaN strength) counts as "no difference", as R's error handler does.
  auto test = [m](const std::vector<double>& v) { return SeasonalStrength(v, m) > 0.64; };
  bool dodiff = test(x);
  while (dodiff && D < max_D) {
    ++D;
    x = LagDiff(x, m);
    if (IsConstant(x)) return D;
    if (static_cast<int>(x.size()) >= 2 * m && D < max_D)
      dodiff = test(x);
    else
      dodiff = false;
  }
  return D;
}

}  // namespace almanac::models::arima
