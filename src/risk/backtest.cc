// VaR backtests: Kupiec proportion of failures, Christoffersen independence and conditional
// coverage, Basel traffic light (docs/risk.md).
#include <cmath>
#include <string>
#include <vector>

#include <boost/math/distributions/binomial.hpp>
#include <boost/math/distributions/chi_squared.hpp>

#include "almanac/risk.h"

namespace almanac::risk {
namespace {

// count * ln(p), with 0 * ln(0) = 0.
double XLogY(double count, double p) { return count == 0 ? 0.0 : count * std::log(p); }

// Bernoulli log-likelihood of `ones` successes out of `ones + zeros` at probability p.
double LogLik(double zeros, double ones, double p) { return XLogY(zeros, 1 - p) + XLogY(ones, p); }

LrTest Lr(double statistic, int dof) {
  // Rounding can make a zero statistic slightly negative.
  if (!(statistic > 0)) statistic = 0;  // also turns -0 into +0
  const boost::math::chi_squared chi2(dof);
  return {.statistic = statistic, .p_value = boost::math::cdf(boost::math::complement(chi2, statistic)), .dof = dof};
}

}  // namespace

std::string_view TrafficLightName(TrafficLight zone) {
  switch (zone) {
    case TrafficLight::kGreen:
      return "green";
    case TrafficLight::kYellow:
      return "yellow";
    case TrafficLight::kRed:
      return "red";
  }
  return "unknown";
}

Result<TrafficLight> BaselZone(int64_t observations, int64_t exceptions, double level) {
  if (observations <= 0) return InvalidArgumentError("a VaR backtest needs at least one observation");
  if (!(level > 0 && level < 1))
    return InvalidArgumentError("level must be in (0, 1) (e.g. 0.99), got " + FormatDouble(level));
  if (exceptions < 0 || exceptions > observations)
    return InvalidArgumentError("exceptions must be in [0, " + std::to_string(observations) + "], got " +
                                std::to_string(exceptions));
  const boost::math::binomial b(static_cast<double>(observations), 1 - level);
  const double cdf = boost::math::cdf(b, static_cast<double>(exceptions));
  if (cdf < 0.95) return TrafficLight::kGreen;
  if (cdf < 0.9999) return TrafficLight::kYellow;
  return TrafficLight::kRed;
}

Result<VaRBacktest> BacktestExceptions(const std::vector<bool>& exceptions, double level) {
  const int64_t n = static_cast<int64_t>(exceptions.size());
  ALMANAC_ASSIGN_OR_RETURN(TrafficLight zone, BaselZone(n, 0, level));
  (void)zone;
  VaRBacktest r;
  r.level = level;
  r.observations = n;
  for (bool e : exceptions) r.exceptions += e ? 1 : 0;
  const double p = 1 - level, nn = static_cast<double>(n), x = static_cast<double>(r.exceptions);
  r.expected_exceptions = nn * p;

  // Kupiec: restricted p against the maximum-likelihood x / n.
  r.kupiec = Lr(-2 * (LogLik(nn - x, x, p) - LogLik(nn - x, x, x / nn)), 1);

  // Christoffersen: first-order Markov chain against independence, on the n - 1 transitions.
  for (int64_t t = 1; t < n; ++t) {
    const bool a = exceptions[t - 1], b = exceptions[t];
    (a ? (b ? r.n11 : r.n10) : (b ? r.n01 : r.n00)) += 1;
  }
  double lr_ind = 0;
  if (n >= 2) {
    const double n00 = r.n00, n01 = r.n01, n10 = r.n10, n11 = r.n11;
    const double pi = (n01 + n11) / (n00 + n01 + n10 + n11);
    double ll1 = 0;
    if (n00 + n01 > 0) ll1 += LogLik(n00, n01, n01 / (n00 + n01));
    if (n10 + n11 > 0) ll1 += LogLik(n10, n11, n11 / (n10 + n11));
    lr_ind = -2 * (LogLik(n00 + n10, n01 + n11, pi) - ll1);
  }
  r.independence = Lr(lr_ind, 1);
  r.conditional_coverage = Lr(r.kupiec.statistic + r.independence.statistic, 2);

  const boost::math::binomial b(nn, p);
  r.binomial_cdf = boost::math::cdf(b, x);
  ALMANAC_ASSIGN_OR_RETURN(r.zone, BaselZone(n, r.exceptions, level));
  return r;
}

Result<VaRBacktest> BacktestVaR(std::span<const double> pnl, std::span<const double> var, double level) {
  if (pnl.size() != var.size())
    return InvalidArgumentError("pnl has " + std::to_string(pnl.size()) + " values but var has " +
                                std::to_string(var.size()) + ": they must be the same length (one VaR per day)");
  if (pnl.empty()) return InvalidArgumentError("a VaR backtest needs at least one observation");
  std::vector<bool> exceptions(pnl.size());
  for (size_t t = 0; t < pnl.size(); ++t) {
    if (!std::isfinite(pnl[t]))
      return InvalidArgumentError("pnl[" + std::to_string(t) + "] is " + FormatDouble(pnl[t]) +
                                  ": NaN and infinite values are not accepted");
    if (!std::isfinite(var[t]))
      return InvalidArgumentError("var[" + std::to_string(t) + "] is " + FormatDouble(var[t]) +
                                  ": NaN and infinite values are not accepted");
    exceptions[t] = -pnl[t] > var[t];
  }
  return BacktestExceptions(exceptions, level);
}

}  // namespace almanac::risk
