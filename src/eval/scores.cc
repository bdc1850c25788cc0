// Sample-based CRPS and the Diebold-Mariano test (see almanac/eval.h).
#include <algorithm>
#include <cmath>
#include <vector>

#include <boost/math/distributions/students_t.hpp>

#include "almanac/eval.h"

namespace almanac::eval {

Result<double> CrpsSample(double actual, std::span<const double> samples) {
  if (samples.empty()) return InvalidArgumentError("CRPS: no samples");
  if (std::isnan(actual)) return InvalidArgumentError("CRPS: the actual value is missing");
  std::vector<double> x(samples.begin(), samples.end());
  for (double v : x)
    if (std::isnan(v)) return InvalidArgumentError("CRPS: a sample is missing (NaN)");
  std::sort(x.begin(), x.end());
  const double n = static_cast<double>(x.size());
  // mean |X - y| and, for sorted x, mean |X - X'| = 2/n^2 sum_i (2i - n + 1) x_i (0-based i).
  double abs_err = 0, spread = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    abs_err += std::fabs(x[i] - actual);
    spread += (2.0 * static_cast<double>(i) - n + 1) * x[i];
  }
  return abs_err / n - spread / (n * n);
}

namespace {

Result<DieboldMarianoResult> Dm(const std::vector<double>& d, int h, DmAlternative alternative) {
  const int n = static_cast<int>(d.size());
  double mean = 0;
  for (double v : d) mean += v;
  mean /= n;
  double var = 0;
  for (int lag = 0; lag < h; ++lag) {
    double g = 0;
    for (int t = lag; t < n; ++t) g += (d[t] - mean) * (d[t - lag] - mean);
    g /= n;
    var += lag == 0 ? g : 2 * g;
  }
  var /= n;
  DieboldMarianoResult r;
  r.n = n;
  r.horizon = h;
  r.df = n - 1;
  r.mean_loss_difference = mean;
  if (!(var > 0)) {
    if (h == 1) return InvalidArgumentError("Diebold-Mariano: the variance of the loss differential is zero");
    ALMANAC_ASSIGN_OR_RETURN(r, Dm(d, 1, alternative));
    r.notes.push_back("the variance estimate for horizon " + std::to_string(h) +
                      " is not positive; the test uses h = 1 (as R's dm.test)");
    return r;
  }
  const double k = std::sqrt((n + 1 - 2.0 * h + (static_cast<double>(h) / n) * (h - 1)) / n);
  r.statistic = mean / std::sqrt(var) * k;
  try {
    boost::math::students_t t(r.df);
    switch (alternative) {
      case DmAlternative::kTwoSided:
        r.pvalue = 2 * boost::math::cdf(t, -std::fabs(r.statistic));
        break;
      case DmAlternative::kLess:
        r.pvalue = boost::math::cdf(t, r.statistic);
        break;
      case DmAlternative::kGreater:
        r.pvalue = boost::math::cdf(boost::math::complement(t, r.statistic));
        break;
    }
  } catch (const std::exception& e) {
    return InternalError(std::string("Diebold-Mariano: t distribution: ") + e.what());
  }
  return r;
}

}  // namespace

Result<DieboldMarianoResult> DieboldMariano(std::span<const double> e1, std::span<const double> e2, int horizon,
                                            double power, DmAlternative alternative) {
  if (e1.size() != e2.size())
    return InvalidArgumentError("Diebold-Mariano: " + std::to_string(e1.size()) + " errors for method 1 but " +
                                std::to_string(e2.size()) + " for method 2");
  if (!(power > 0)) return InvalidArgumentError("Diebold-Mariano: the loss power must be positive");
  std::vector<double> d;
  for (size_t i = 0; i < e1.size(); ++i) {
    if (std::isnan(e1[i]) || std::isnan(e2[i])) continue;
    d.push_back(std::pow(std::fabs(e1[i]), power) - std::pow(std::fabs(e2[i]), power));
  }
  const int n = static_cast<int>(d.size());
  if (n < 3) return InvalidArgumentError("Diebold-Mariano: needs at least 3 pairs of errors, got " + std::to_string(n));
  if (horizon < 1 || horizon >= n)
    return InvalidArgumentError("Diebold-Mariano: horizon must be in 1.." + std::to_string(n - 1) + ", got " +
                                std::to_string(horizon));
  return Dm(d, horizon, alternative);
}

}  // namespace almanac::eval
