// Factor model: OLS of an asset's returns on macro factor changes with Newey-West (HAC)
// standard errors (docs/risk.md).
#include <cmath>
#include <string>
#include <vector>

#include <Eigen/Dense>

#include "almanac/risk.h"

namespace almanac::risk {

Result<FactorFit> FitFactorModel(std::span<const double> returns, const std::vector<std::vector<double>>& factors,
                                 const FactorModelOptions& options) {
  const int64_t n = static_cast<int64_t>(returns.size());
  const int64_t k = static_cast<int64_t>(factors.size()) + (options.intercept ? 1 : 0);
  if (k == 0) return InvalidArgumentError("factor model: no factor and no intercept: nothing to estimate");
  for (int64_t t = 0; t < n; ++t)
    if (!std::isfinite(returns[t]))
      return InvalidArgumentError("factor model: returns[" + std::to_string(t) + "] is " + FormatDouble(returns[t]) +
                                  ": NaN and infinite values are not accepted");
  for (size_t j = 0; j < factors.size(); ++j) {
    if (static_cast<int64_t>(factors[j].size()) != n)
      return InvalidArgumentError("factor model: factor " + std::to_string(j) + " has " +
                                  std::to_string(factors[j].size()) + " observations but returns have " +
                                  std::to_string(n));
    for (int64_t t = 0; t < n; ++t)
      if (!std::isfinite(factors[j][t]))
        return InvalidArgumentError("factor model: factor " + std::to_string(j) + "[" + std::to_string(t) + "] is " +
                                    FormatDouble(factors[j][t]) + ": NaN and infinite values are not accepted");
  }
  if (n <= k)
    return InvalidArgumentError("factor model: too few observations: " + std::to_string(n) + " for " +
                                std::to_string(k) + " coefficients (need more observations than coefficients)");
  int64_t lags = options.lags;
  if (lags < 0) lags = static_cast<int64_t>(std::floor(4 * std::pow(static_cast<double>(n) / 100.0, 2.0 / 9.0)));
  if (lags >= n)
    return InvalidArgumentError("factor model: " + std::to_string(lags) + " Newey-West lags for " + std::to_string(n) +
                                " observations (need fewer lags than observations)");

  Eigen::MatrixXd x(n, k);
  Eigen::VectorXd y(n);
  for (int64_t t = 0; t < n; ++t) {
    y(t) = returns[t];
    int64_t c = 0;
    if (options.intercept) x(t, c++) = 1;
    for (const auto& f : factors) x(t, c++) = f[t];
  }
  const Eigen::ColPivHouseholderQR<Eigen::MatrixXd> qr(x);
  if (qr.rank() < k)
    return InvalidArgumentError("factor model: the factors are collinear (rank " + std::to_string(qr.rank()) + " of " +
                                std::to_string(k) + " columns): drop a factor");
  const Eigen::VectorXd beta = qr.solve(y);
  const Eigen::VectorXd u = y - x * beta;
  // (X'X)^-1 from the normal equations (full rank was checked on X itself).
  const Eigen::MatrixXd xtx = x.transpose() * x;
  const Eigen::MatrixXd xtx_inv = xtx.ldlt().solve(Eigen::MatrixXd::Identity(k, k));

  // S = sum over lags l = 0..L of w_l (G_l + G_l'), G_l = sum_t s_t s_{t-l}', s_t = x_t u_t,
  // Bartlett weights w_l = 1 - l / (L + 1), and G_0 counted once.
  const Eigen::MatrixXd s = x.array().colwise() * u.array();
  Eigen::MatrixXd meat = s.transpose() * s;
  for (int64_t l = 1; l <= lags; ++l) {
    const Eigen::MatrixXd g = s.bottomRows(n - l).transpose() * s.topRows(n - l);
    meat += (1.0 - static_cast<double>(l) / static_cast<double>(lags + 1)) * (g + g.transpose());
  }
  Eigen::MatrixXd cov = xtx_inv * meat * xtx_inv;
  if (options.small_sample_correction) cov *= static_cast<double>(n) / static_cast<double>(n - k);

  FactorFit fit;
  fit.observations = n;
  fit.lags = lags;
  fit.coefficients.assign(beta.data(), beta.data() + k);
  fit.covariance.resize(k * k);
  for (int64_t i = 0; i < k; ++i)
    for (int64_t j = 0; j < k; ++j) fit.covariance[i * k + j] = cov(i, j);
  for (int64_t i = 0; i < k; ++i) {
    fit.std_errors.push_back(std::sqrt(cov(i, i)));
    fit.t_stats.push_back(beta(i) / fit.std_errors.back());
  }
  fit.residuals.assign(u.data(), u.data() + n);
  const double ssr = u.squaredNorm();
  fit.residual_sd = std::sqrt(ssr / static_cast<double>(n - k));
  const double mean = y.mean();
  const double tss = options.intercept ? (y.array() - mean).square().sum() : y.squaredNorm();
  fit.r_squared = tss > 0 ? 1 - ssr / tss : 0;
  return fit;
}

}  // namespace almanac::risk
