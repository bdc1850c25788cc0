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
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "almanac/core.h"
#include "almanac/models.h"

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

// ------------------------------------------------------------------------------- portfolio
//
// A portfolio of positions on assets (or portfolio segments), each asset's per-period return
// explained by macro factors through a factor model, and its P&L over the horizons of
// simulated macro paths (docs/risk.md, "Portfolio"):
//
//   auto positions = risk::ReadPositionsFile("positions.csv");          // asset, exposure, currency
//   auto model = risk::FitPortfolioFactorModel(asset_returns, factor_history, {"gdp", "rate"}, {});
//   auto paths = var_model->SimulatePaths({.num_paths = 100000, .horizon = 8});
//   auto report = risk::SimulatePortfolioRisk(*positions, fx, *model, *paths, {.seed = 7});

// One position: `exposure` in `currency` (the amount whose P&L is exposure x the asset's
// return), on `asset`.
struct Position {
  std::string id;        // unique; defaults to "<asset>" or "<asset>/<currency>"
  std::string asset;
  double exposure = 0;
  std::string currency;  // empty: the reporting currency
  int line = 0;          // where it was read (1-based line, or 1-based JSON array index)
};

// Positions from CSV (a header naming the columns asset, exposure and optionally id and
// currency) or JSON (an array of {asset, exposure, id?, currency?} or {"positions": [...]}),
// told apart by the first non-blank character. `file_name` is used in messages.
// InvalidArgument naming the file and line (CSV) or index (JSON) for a missing column or key,
// a non-numeric or non-finite exposure, an empty asset, a duplicated id (or the same asset and
// currency twice when there is no id), or no position at all.
Result<std::vector<Position>> ParsePositions(std::string_view text, std::string_view file_name);
// Reads and parses a file (NotFound when it cannot be read).
Result<std::vector<Position>> ReadPositionsFile(const std::string& path);

// FX rates to the reporting currency: value in `base` of one unit of each currency.
struct FxRates {
  std::string base;                          // the reporting currency (rate 1)
  std::vector<std::pair<std::string, double>> rates;
  // The rate of `currency` (1 for the base or an empty currency). NotFound naming the currency.
  Result<double> Rate(std::string_view currency) const;
};
// A CSV `currency,rate` file (header line required; rate = units of base per unit of the
// currency, > 0 and finite). InvalidArgument naming file and line for bad or duplicated rows.
Result<FxRates> ParseFxRates(std::string_view text, std::string_view file_name, std::string base);

// Per-asset factor models sharing one list of factors: asset a's return in a period is
//   r = alpha_a + sum_f beta_af x_f + e,  e ~ N(0, residual_sd_a^2) independent over time,
// where x_f is the factor's value in that period (a model variable, or its change from the
// previous period when `difference` is set).
struct FactorSpec {
  std::string variable;     // a variable of the simulated paths
  bool difference = false;  // use x_t - x_{t-1} (the first step uses the last observed value)
};
struct PortfolioFactorModel {
  std::vector<FactorSpec> factors;
  std::vector<std::string> assets;
  std::vector<FactorFit> fits;  // per asset: intercept then one coefficient per factor
};

// Fits one FitFactorModel (with intercept) per asset. `asset_returns[a]` and every
// `factor_history[f]` are aligned period by period (the same length). InvalidArgument naming
// the asset for too few observations, collinear factors or bad values; for a duplicated asset,
// an empty list, or names and columns that disagree.
Result<PortfolioFactorModel> FitPortfolioFactorModel(const std::vector<std::string>& assets,
                                                     const std::vector<std::vector<double>>& asset_returns,
                                                     const std::vector<FactorSpec>& factors,
                                                     const std::vector<std::vector<double>>& factor_history,
                                                     const FactorModelOptions& options);

struct PortfolioRiskOptions {
  std::vector<double> levels{0.95, 0.99};
  // Draw each asset's coefficients once per path from N(coefficients, Newey-West covariance),
  // so the estimation uncertainty of the factor model is in the P&L distribution.
  bool parameter_uncertainty = true;
  // Add the asset's residual e (independent across assets, periods and paths).
  bool residuals = true;
  double t_dof = 5;          // the Student-t of the parametric method (> 2)
  std::uint64_t seed = 42;   // counter-based: the numbers of path i depend on (seed, i) only
  int threads = 0;           // <= 0: HardwareThreads(); the result does not depend on it
  // Last observed value of each factor variable (needed for `difference` factors; by name).
  std::vector<std::pair<std::string, double>> last_values;
  int histogram_bins = 20;   // of the P&L distribution per horizon (0: none)
};

// VaR/ES by one method at one level, with Euler contributions.
struct RiskFigure {
  std::string method;  // "monte_carlo", "normal", "t"
  double level = 0;
  double var = 0, es = 0;
  std::vector<double> position_var, position_es;  // per position, summing to var / es
  // Per component: "drift" (the intercepts), one per factor, "specific" (residuals and the
  // coefficient draws); summing to var / es. Monte Carlo only (empty otherwise).
  std::vector<std::string> components;
  std::vector<double> component_var, component_es;
};

struct HorizonRisk {
  int h = 0;
  std::string period;   // of the paths' step h, when they have a start
  double mean = 0, sd = 0;       // of the simulated P&L
  double point = 0;     // P&L at the point coefficients on the mean factor path, no residual
  std::vector<double> percentiles;  // P&L at 1, 5, 25, 50, 75, 95, 99 % (lower empirical)
  std::vector<double> histogram_edges;  // bins + 1 edges
  std::vector<int64_t> histogram_counts;
  std::vector<RiskFigure> figures;  // for each level: monte_carlo, normal, t
};

struct PortfolioRisk {
  std::string currency;
  std::vector<std::string> position_ids;
  std::vector<double> position_exposures;  // in the reporting currency
  int num_paths = 0;
  std::vector<HorizonRisk> horizons;  // h = 1..H (cumulative P&L to the end of step h)
  std::string method;  // seed, draws, paths' method
};

// The P&L of `positions` over each horizon of `paths`: for path i and asset a,
//   R_a(h) = sum_{s<=h} (alpha_a + beta_a' x_s + e_s)   (cumulative simple returns),
//   P&L(h) = sum_j exposure_j * fx_j * R_asset(j)(h),
// with the coefficients drawn per path when options.parameter_uncertainty. VaR/ES per horizon
// and level by Monte Carlo (the historical estimator on the simulated P&Ls) and parametric
// normal and t (mean and sd of the simulated P&Ls), each with Euler contributions by position;
// the Monte Carlo ones also by component. Memory is O(paths x horizon + assets x horizon x
// chunks): no path x position matrix is kept (contributions recompute the tail paths).
// InvalidArgument for a position on an unknown asset (naming the position and its line), a
// factor variable not in the paths, a missing last value for a difference factor, a
// coefficient covariance that is not positive semi-definite (naming the asset), bad levels or
// dof; NotFound for a currency without a rate.
Result<PortfolioRisk> SimulatePortfolioRisk(const std::vector<Position>& positions, const FxRates& fx,
                                            const PortfolioFactorModel& model, const models::SimulatedPaths& paths,
                                            const PortfolioRiskOptions& options);

// Historical revaluation: the one-period P&L of today's positions under each historical
// period's asset returns, `asset_returns[a][t]` aligned over t. VaR/ES by historical simulation,
// normal and t, with Euler contributions by position (as HistoricalContributions and
// ParametricContributions). Errors as SimulatePortfolioRisk, and InvalidArgument for returns of
// different lengths.
Result<std::vector<RiskFigure>> HistoricalPortfolioRisk(const std::vector<Position>& positions, const FxRates& fx,
                                                        const std::vector<std::string>& assets,
                                                        const std::vector<std::vector<double>>& asset_returns,
                                                        const PortfolioRiskOptions& options);

// ------------------------------------------------------------------------------ stress test
//
// The whole chain in one call (used by `almanac risk portfolio`, the pipeline's `risk` step
// and `POST /v1/risk/portfolio`): fit the macro model, fit the factor models on the asset
// return history, simulate the macro paths unconditionally or under each scenario of a
// scenario file (Waggoner-Zha conditional paths), and compute the portfolio's risk on each.

// Asset returns by period: a CSV with a `period` (or `date`) column and one column per asset.
struct AssetReturns {
  std::vector<Period> periods;
  std::vector<std::string> assets;
  std::vector<std::vector<double>> values;  // [asset][row]
};
// InvalidArgument naming the file, line and column for an unparsable period, a non-numeric or
// non-finite return, a duplicated period or asset column, or no asset column.
Result<AssetReturns> ParseAssetReturns(std::string_view text, std::string_view file_name);

// Asset returns from series (e.g. read from the store as of a date): asset a's history is
// series[a]; the rows are the periods where every asset has a finite value, in order.
// InvalidArgument naming the asset for an empty series, an empty or duplicated asset name, a
// frequency that differs from the first asset's, no common period, or fewer than
// `min_periods` common periods; for names and series that disagree in number.
Result<AssetReturns> AlignAssetReturns(const std::vector<std::string>& assets, const std::vector<TimeSeries>& series,
                                       int64_t min_periods = 1);

struct StressTestRequest {
  models::MultiInput data;  // the macro variables, aligned, with a start period
  models::ModelSpec model{"var", Json{{"lags", 2}}};
  std::vector<Position> positions;
  FxRates fx;
  AssetReturns returns;
  std::vector<std::string> factors;  // model variables; empty: all of them
  bool factor_changes = false;       // regress on the variables' period changes (not levels)
  std::optional<models::ScenarioSet> scenarios;  // none: one unconditional run "unconditional"
  std::vector<std::string> only;                 // run only these scenarios
  int num_paths = 10000;
  int horizon = 8;
  models::ShockDistribution shocks = models::ShockDistribution::kGaussian;
  double shock_dof = 5;
  bool model_parameter_uncertainty = false;  // bvar: posterior coefficient draws per path
  FactorModelOptions factor_options;
  PortfolioRiskOptions risk;
  // When set, the paths come from this already fitted VAR/BVAR (e.g. one loaded from a model
  // package with models::LoadMultivariate) instead of fitting `model` on `data`; `data` still
  // gives the factor regressions and the difference factors' last values. InvalidArgument
  // when its variables are not data.names (in that order) or its fit did not end where
  // `data` ends (the paths would start elsewhere).
  std::shared_ptr<const models::MultivariateForecaster> fitted_model;
};

// The macro model of a registered version, for StressTestRequest.fitted_model: `envelope` is
// its package's model envelope (registry::ParsedPackage::model_envelope), `id` its
// "NAME@VERSION" and `model_type` its manifest's model_type, for messages. FailedPrecondition
// naming the version and its type when the envelope's type does not simulate macro paths (a
// univariate model such as auto_ets, or arimax): only var and bvar versions do. Errors of
// models::LoadMultivariate (InvalidArgument, DataLoss) otherwise, with the version named.
Result<std::shared_ptr<const models::MultivariateForecaster>> LoadMacroModel(std::string_view id,
                                                                             std::string_view model_type,
                                                                             const Json& envelope);

struct StressTestResult {
  std::string model_method;             // the macro model's description
  std::vector<std::string> variables;
  std::string sample;                   // "1959Q1..2009Q3 (203 obs)"
  PortfolioFactorModel factor_model;
  int64_t factor_observations = 0;      // periods used by the factor regressions
  std::vector<RiskFigure> historical;   // one-period revaluation on the return history
  std::vector<std::string> scenario_names;
  std::vector<std::string> scenario_descriptions;
  std::vector<PortfolioRisk> scenarios;  // one per scenario, in file order
};

// InvalidArgument for every bad input the parts report (positions, scenarios naming unknown
// variables or of the wrong length, factors that are not model variables, too few periods
// shared by the returns and the macro data, non-positive-definite covariances), each naming
// the place; NotFound for an `only` scenario that is not in the file.
Result<StressTestResult> RunStressTest(const StressTestRequest& request);

// The result as JSON (docs/risk.md, "JSON report"): inputs, factor model, historical figures,
// and per scenario the horizons with VaR/ES, contributions, percentiles and histogram.
Json StressTestJson(const StressTestResult& result);

// The headline figures of a StressTestJson report as (name, value) pairs, for run metrics:
// "risk.SCENARIO.hH.varLL" and "risk.SCENARIO.hH.esLL", the Monte Carlo VaR and ES of each
// scenario, horizon h and level (LL = level x 100, e.g. var99, es97.5), in report order.
// Entries the report lacks are skipped (never an error).
std::vector<std::pair<std::string, double>> StressTestMetrics(const Json& report);

// ------------------------------------------------------------------ as-of VaR backtest
//
// The VaR the model gave at each date, from the data as known then: for each origin period p,
// the macro data as known on the first day after p (a vintage, through `data_as_of`; periods
// after p are dropped, since they were not known), the factor models fitted on the returns of
// the periods known then, the one-step-ahead Monte Carlo VaR of the portfolio for the period
// after the last known one, and the P&L the positions realised in that period (from the return
// history). The VaR series and the realised P&Ls feed BacktestVaR.

struct AsOfBacktestRequest {
  StressTestRequest base;  // positions, FX, returns, factors, model, paths, seed (data and
                           // scenarios are ignored: each origin is unconditional, horizon 1)
  std::vector<Period> origins;
  // The macro data as known on `as_of` (e.g. SeriesStore::ReadAsOf through the CLI).
  std::function<Result<models::MultiInput>(Date as_of)> data_as_of;
  double level = 0.99;
};

struct AsOfVaRPoint {
  Period origin;          // the period the VaR was computed at
  Date as_of;             // the data as known on this date
  Period target;          // the period the VaR is for (the one after the last known period)
  double var = 0, es = 0;  // Monte Carlo, one step ahead
  double pnl = 0;          // realised
  bool exception = false;  // -pnl > var
};

struct AsOfBacktestResult {
  std::vector<AsOfVaRPoint> points;
  std::vector<std::string> skipped;  // origins without a realised return for their target
  VaRBacktest backtest;
};

// InvalidArgument for no origin, no callback, or any error of RunStressTest at an origin
// (with the origin named); FailedPrecondition when no origin has a realised P&L.
Result<AsOfBacktestResult> BacktestPortfolioAsOf(const AsOfBacktestRequest& request);

// ------------------------------------------------------------ macro scenario paths (issue 24)
//
// The macro side of a stress test on its own: fit the VAR/BVAR on the data (or take an already
// fitted one), resolve every scenario of a scenario file (Waggoner-Zha conditions), simulate
// each scenario's joint paths. RunStressTest uses it; so do the pipeline's `simulate` step and
// `almanac risk simulate`, which store the paths (docs/risk.md, "Stored macro paths"):
//
//   ALMANAC_ASSIGN_OR_RETURN(auto sim, risk::MacroScenarioSimulator::Create(request));
//   for (size_t s = 0; s < sim.scenario_names().size(); ++s) {
//     ALMANAC_ASSIGN_OR_RETURN(models::SimulatedPaths paths, sim.Simulate(s));
//     ...
//   }

struct MacroSimulationRequest {
  models::MultiInput data;  // the macro variables, aligned, with a start period
  models::ModelSpec model{"var", Json{{"lags", 2}}};
  // When set, the paths come from this fitted VAR/BVAR instead of fitting `model` on `data`
  // (its variables must be data.names in that order and its fit must end where `data` ends).
  std::shared_ptr<const models::MultivariateForecaster> fitted_model;
  std::optional<models::ScenarioSet> scenarios;  // none: one unconditional run "unconditional"
  std::vector<std::string> only;                 // run only these scenarios
  int num_paths = 10000;
  int horizon = 8;
  models::ShockDistribution shocks = models::ShockDistribution::kGaussian;
  double shock_dof = 5;
  bool model_parameter_uncertainty = false;  // bvar: posterior coefficient draws per path
  std::uint64_t seed = 42;
  int threads = 0;  // the result does not depend on it
};

// Not copyable (holds the fitted model); movable. Thread-compatible: Simulate is const.
class MacroScenarioSimulator {
 public:
  // Resolves every scenario first (so a bad one fails before any fit or simulation), then fits
  // the model or checks the fitted one. InvalidArgument for data without periods or with fewer
  // than 2 observations, a scenario naming an unknown variable, of the wrong length or with a
  // period outside the horizon (naming file, line and key), a fitted model whose variables are
  // not data.names; NotFound for an `only` scenario that is not in the file; the model's errors
  // for the fit.
  static Result<MacroScenarioSimulator> Create(const MacroSimulationRequest& request);

  const std::string& model_method() const { return model_method_; }  // "VAR(2), constant"
  const std::vector<std::string>& variables() const { return variables_; }
  const std::string& sample() const { return sample_; }  // "1959Q1..2009Q3 (203 obs)"
  Period first_period() const { return first_; }           // the period of h = 1
  const std::vector<std::string>& scenario_names() const { return names_; }
  const std::vector<std::string>& scenario_descriptions() const { return descriptions_; }

  // The paths of scenario `s` (0-based, in file order). The model's SimulatePaths errors
  // (e.g. N x H x K > models::kMaxPathValues, conditions with non-Gaussian shocks) with the
  // scenario named; InvalidArgument when a fitted model simulates from another period than
  // first_period(); OutOfRange for s >= scenario_names().size().
  Result<models::SimulatedPaths> Simulate(size_t s) const;

 private:
  MacroScenarioSimulator() = default;
  std::shared_ptr<const models::MultivariateForecaster> model_;
  std::string model_method_, sample_;
  std::vector<std::string> variables_;
  Period first_;
  std::vector<std::string> names_, descriptions_;
  std::vector<std::vector<models::PathCondition>> conditions_;
  MacroSimulationRequest settings_;  // num_paths, horizon, shocks, seed, ... (data cleared)
};

// Stored paths (the `simulate` step's artifact, `almanac risk simulate -o`): float32
// little-endian values after a JSON header (docs/risk.md, "Stored macro paths"):
//   bytes 0..7   "ALMPATH1"
//   bytes 8..11  header length L, uint32 little-endian
//   next L bytes the header, canonical JSON: format, dtype "float32", byte_order "little",
//                layout "scenario,path,step,variable", scenarios, variables, num_paths,
//                horizon, first_period, model, seed, shocks
//   then         S x N x H x K float32 values, in that order (4 bytes per value)
// So one path of one scenario is H x K x 4 bytes (8 quarters x 10 variables: 320 bytes).
inline constexpr std::string_view kMacroPathsMagic = "ALMPATH1";
// The cap on S x N x H x K stored values: 2^25 (128 MiB of float32). Above it
// MacroPathsSizeCheck refuses before anything is simulated.
inline constexpr std::int64_t kMaxStoredPathValues = std::int64_t{1} << 25;

// InvalidArgument naming the numbers and the cap when scenarios x paths x horizon x
// variables > kMaxStoredPathValues (or any of them < 1).
Status MacroPathsSizeCheck(int64_t scenarios, int64_t paths, int64_t horizon, int64_t variables);

// Writes the stored form: `header` (an object: the caller's fields, e.g. model and seed) gets
// the format fields added; then the scenarios' values as float32. InvalidArgument when the
// scenarios' shapes or variables differ or the size check fails; values that do not fit a
// float32 (|x| > 3.4e38) are InvalidArgument naming scenario, path, step and variable.
Result<std::string> EncodeMacroPaths(const std::vector<std::string>& scenario_names,
                                     const std::vector<models::SimulatedPaths>& paths, Json header);

// The paths of every scenario of `request` in the stored form, and their summary
// {"model", "sample", "variables", "first_period", "scenarios": [MacroPathsSummary + "description"]}:
// MacroScenarioSimulator::Create, then MacroPathsSizeCheck before anything is simulated, then
// one scenario at a time (peak memory: the float32 file, 4 bytes per value of every scenario,
// plus one scenario's paths in double, 8 bytes per value). `header` as for EncodeMacroPaths ("model" and
// "sample" are added). Errors of Create, MacroPathsSizeCheck, Simulate and EncodeMacroPaths.
struct StoredMacroPaths {
  std::string bytes;
  Json summary;
};
Result<StoredMacroPaths> SimulateMacroPathsForStorage(const MacroSimulationRequest& request, Json header);

struct DecodedMacroPaths {
  Json header;
  std::vector<std::string> scenarios, variables;
  int num_paths = 0, horizon = 0;
  std::vector<float> values;  // [scenario][path][step][variable]
};
// DataLoss for a bad magic, a truncated file, a header that is not such JSON, or a value
// count that does not match the header.
Result<DecodedMacroPaths> DecodeMacroPaths(std::string_view bytes);

// Summary of one scenario's paths per variable and step: mean, sd (n - 1) and the 1, 5, 25,
// 50, 75, 95 and 99 % quantiles (the lower empirical quantile x(ceil(n p)), as the P&L
// percentiles), computed from the double values:
//   {"scenario": S, "variables": [{"variable": V, "periods": [{"h", "period", "mean", "sd",
//    "p01", ..., "p99"}]}]}
Json MacroPathsSummary(const std::string& scenario, const models::SimulatedPaths& paths);

// An as-of VaR backtest's result as JSON, as `almanac risk var-backtest --format json`,
// POST /v1/risk/var-backtest and the pipeline's var_backtest.json give it (one builder for the
// three):
//   {"points": [{"origin","as_of","target","var","es","pnl","exception"}, ...],
//    "skipped": [origin, ...],
//    "backtest": {"observations","level","exceptions","expected_exceptions","kupiec_lr",
//                 "kupiec_p","independence_lr","independence_p","conditional_coverage_lr",
//                 "conditional_coverage_p","zone"}}
// Callers add "inputs" (and "settings") of their own.
Json AsOfBacktestJson(const AsOfBacktestResult& result);

}  // namespace almanac::risk
