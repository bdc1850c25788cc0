// File: almanac/risk.h
//
// Investment risk on P&L samples (issue 24, the risk side): value at risk (VaR) and expected
// shortfall (ES) by historical simulation, parametric normal and Student-t, Euler
// contributions by position, VaR backtests (Kupiec, Christoffersen, Basel traffic light), and
// a factor model (OLS of returns on macro factor changes with Newey-West standard errors).
// docs/risk.md states every formula and convention.
//
//   std::vector<double> pnl = ...;                    // one P&L per scenario; a loss is < 0
//   auto h = risk::HistoricalVaREs(pnl, 0.99);        // h->var, h->es: positive numbers = losses
//   auto n = risk::ParametricVaREs(pnl, 0.99, {.distribution = risk::Distribution::kNormal});
//   auto bt = risk::BacktestVaR(pnl_history, var_series, 0.99);  // Kupiec, Christoffersen, zone
//   auto fit = risk::FitFactorModel(returns, {gdp_growth, rate_change}, {.lags = 4});
//
// Sign convention: P&L is positive for a gain; VaR and ES are reported as losses, i.e.
// VaR = -(a low quantile of P&L), so a VaR of 12.5 means "lose 12.5 or more with probability
// about 1 - level". Levels are confidence levels in (0, 1) (0.99, not 99).
//
// Monte Carlo VaR/ES is HistoricalVaREs applied to simulated P&Ls: the estimator is the same,
// only the scenarios differ.
//
// Every function is a pure function of its arguments: thread-safe, no global state. Bad input
// (empty samples, NaN or infinite values, levels outside (0, 1), sizes that disagree, degrees
// of freedom <= 2 where a variance is needed) returns InvalidArgument naming the argument and,
// where there is one, the index.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "almanac/core.h"

namespace almanac::risk {

// VaR and ES at one confidence level, both as positive losses (negative when even the tail
// is a gain).
struct VaREs {
  double level = 0;
  double var = 0;
  double es = 0;
};

// --------------------------------------------------------------------- historical simulation

// The number of tail scenarios of a sample of n at `level`: k = ceil(n (1 - level)), at least
// 1, where n (1 - level) within 1e-9 (relative) of an integer counts as that integer (so
// 1000 x (1 - 0.99) is 10, not 11 by rounding). InvalidArgument for n == 0 or a level outside
// (0, 1).
Result<int64_t> TailCount(int64_t n, double level);

// Historical simulation. With the P&Ls sorted ascending x(1) <= ... <= x(n) and k = TailCount:
//   VaR = -x(k)                      (the lower empirical (1 - level)-quantile, numpy's
//                                     quantile method "inverted_cdf")
//   ES  = -(x(1) + ... + x(k)) / k   (the mean of the k worst P&Ls, the VaR scenario included)
// so ES >= VaR always. InvalidArgument for an empty sample, a NaN or infinite P&L (naming its
// index) or a level outside (0, 1).
Result<VaREs> HistoricalVaREs(std::span<const double> pnl, double level);

// ------------------------------------------------------------------------------ parametric

enum class Distribution { kNormal, kStudentT };

struct ParametricOptions {
  Distribution distribution = Distribution::kNormal;
  // Student-t degrees of freedom (> 2 when the scale comes from the sample variance, > 1 for
  // ES with an explicit scale).
  double dof = 5;
};

// Closed forms for a P&L distributed as mean + scale * Z, Z standard normal or standard
// Student-t with `dof` degrees of freedom; q = the level-quantile of Z, f its density:
//   VaR = -mean + scale * q
//   ES  = -mean + scale * f(q) / (1 - level)                          (normal)
//   ES  = -mean + scale * f(q) / (1 - level) * (dof + q^2) / (dof - 1) (Student-t)
// IMPORTANT: for the t, `scale` is the scale parameter, not the standard deviation (which is
// scale * sqrt(dof / (dof - 2))). InvalidArgument for a non-finite mean, a non-positive or
// non-finite scale, a level outside (0, 1), or dof <= 1 for the t.
Result<VaREs> ClosedFormVaREs(double mean, double scale, double level, const ParametricOptions& options);

// The sample's mean and standard deviation (n - 1 denominator), and ClosedFormVaREs with
// scale = sd (normal) or scale = sd * sqrt((dof - 2) / dof) (Student-t: the t with the
// sample's variance). InvalidArgument for fewer than 2 P&Ls, a NaN or infinite P&L, a zero
// standard deviation, dof <= 2 for the t, or a bad level.
Result<VaREs> ParametricVaREs(std::span<const double> pnl, double level, const ParametricOptions& options);

// -------------------------------------------------------------------- Euler contributions

// Scenario x position P&Ls of a linear portfolio: `pnl[s * positions + j]` is position j's
// P&L in scenario s (row-major); the portfolio P&L of scenario s is the sum over j.
struct PositionPnl {
  int64_t scenarios = 0;
  int64_t positions = 0;
  std::vector<double> pnl;
};

struct Contributions {
  VaREs total;               // of the portfolio P&L
  std::vector<double> var;   // per position; sums to total.var
  std::vector<double> es;    // per position; sums to total.es
};

// Euler allocation by historical simulation: with T the k = TailCount worst portfolio
// scenarios (ties broken by the lower scenario index) and s* the k-th worst (the VaR scenario),
//   ES_j  = -(1/k) sum over s in T of pnl[s, j]     (= -E[position P&L | portfolio in the tail])
//   VaR_j = -pnl[s*, j]
// Both sum over j to the portfolio's historical ES and VaR (to rounding). VaR_j rests on one
// scenario, so it is noisy; ES_j averages k. InvalidArgument for sizes that disagree
// (pnl.size() != scenarios * positions), no scenario or position, a NaN or infinite P&L
// (naming scenario and position) or a bad level.
Result<Contributions> HistoricalContributions(const PositionPnl& data, double level);

// Euler allocation of the parametric VaR/ES: with m_j the mean of position j, c_j its sample
// covariance with the portfolio and s the portfolio's standard deviation, each position gets
//   -m_j + (c_j / s) * (VaR + m) / s         for VaR (and likewise for ES),
// where m is the portfolio mean: the gradient of the closed form, which sums to the total
// since the c_j sum to s^2. Errors as ParametricVaREs and HistoricalContributions.
Result<Contributions> ParametricContributions(const PositionPnl& data, double level, const ParametricOptions& options);

// --------------------------------------------------------------------------- backtesting

// A likelihood-ratio statistic and its asymptotic chi-square p-value.
struct LrTest {
  double statistic = 0;
  double p_value = 1;
  int dof = 1;
};

enum class TrafficLight { kGreen, kYellow, kRed };
std::string_view TrafficLightName(TrafficLight zone);  // "green", "yellow", "red"

struct VaRBacktest {
  double level = 0;
  int64_t observations = 0;
  int64_t exceptions = 0;
  double expected_exceptions = 0;  // observations * (1 - level)
  // Transition counts of consecutive days (from state i to state j; 1 = exception).
  int64_t n00 = 0, n01 = 0, n10 = 0, n11 = 0;
  LrTest kupiec;                   // proportion of failures, chi2(1)
  LrTest independence;             // Christoffersen, chi2(1)
  LrTest conditional_coverage;     // kupiec + independence, chi2(2)
  double binomial_cdf = 0;         // P(X <= exceptions), X ~ Binomial(observations, 1 - level)
  TrafficLight zone = TrafficLight::kGreen;
};

// Backtests exception indicators (true: the loss exceeded the VaR that day) at `level`:
//  - Kupiec: LR_uc = -2 [ln L(p) - ln L(x/n)], p = 1 - level, x exceptions out of n;
//  - Christoffersen independence: LR_ind = -2 [ln L(pi) - ln L(pi01, pi11)] from the n-1
//    transitions, pi = (n01 + n11) / (n - 1);
//  - conditional coverage: LR_cc = LR_uc + LR_ind, chi2(2).
// 0 ln 0 is taken as 0, so no exception and all exceptions give finite statistics; a state
// with no transition out of it (e.g. no exception before the last day) contributes nothing
// and pi01 or pi11 is not estimated; with fewer than 2 observations LR_ind = 0 (p-value 1).
// Basel traffic light: green while P(X <= x) < 0.95, yellow while < 0.9999, red from 0.9999
// (for 250 observations at 0.99: green 0-4, yellow 5-9, red 10 or more).
// InvalidArgument for no observation or a level outside (0, 1).
Result<VaRBacktest> BacktestExceptions(const std::vector<bool>& exceptions, double level);

// Exception on day t when the loss exceeds the VaR: -pnl[t] > var[t] (VaR as a positive loss).
// InvalidArgument for sizes that disagree, an empty history, or a NaN or infinite value
// (naming the series and the index), or a bad level.
Result<VaRBacktest> BacktestVaR(std::span<const double> pnl, std::span<const double> var, double level);

// Basel zone of `exceptions` out of `observations` at `level` (as in BacktestExceptions).
Result<TrafficLight> BaselZone(int64_t observations, int64_t exceptions, double level);

// ---------------------------------------------------------------------------- factor model

struct FactorModelOptions {
  bool intercept = true;
  // Newey-West lags L (Bartlett weights 1 - l / (L + 1)); -1: floor(4 (n / 100)^(2/9)).
  int64_t lags = -1;
  // Multiply the covariance by n / (n - k) (statsmodels' use_correction; off by default there).
  bool small_sample_correction = false;
};

struct FactorFit {
  int64_t observations = 0;
  int64_t lags = 0;
  // Intercept first (when asked for), then one per factor in the order given.
  std::vector<double> coefficients;
  std::vector<double> std_errors;  // Newey-West (HAC)
  std::vector<double> t_stats;     // coefficient / standard error
  std::vector<double> covariance;  // k x k, row-major, Newey-West
  std::vector<double> residuals;
  double residual_sd = 0;          // sqrt(SSR / (n - k))
  double r_squared = 0;            // centred with an intercept, uncentred without
};

// OLS of `returns` on the factors (each a vector as long as `returns`) with the Newey-West
// covariance (X'X)^-1 S (X'X)^-1, S = sum_{l=0..L} w_l (G_l + G_l') with G_0 counted once,
// G_l = sum_t x_t u_t u_{t-l} x_{t-l}' — what statsmodels' OLS(...).fit(cov_type="HAC",
// cov_kwds={"maxlags": L}) computes. InvalidArgument for sizes that disagree, NaN or
// infinite values (naming the factor and index), too few observations (n <= k), lags >= n, or
// collinear factors.
Result<FactorFit> FitFactorModel(std::span<const double> returns, const std::vector<std::vector<double>>& factors,
                                 const FactorModelOptions& options);

}  // namespace almanac::risk
