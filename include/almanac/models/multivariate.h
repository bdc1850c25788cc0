// File: almanac/models/multivariate.h
//
// Multivariate forecasting: vector autoregressions (VAR by OLS, Bayesian VAR with a Minnesota
// prior), their analysis (lag-order selection, stability, impulse responses, variance
// decompositions, Granger causality), conditional (scenario) forecasts and the scenario file
// format. Part of the models component (exposed by the umbrella almanac/models.h); depends on
// core only.
//
//   ALMANAC_ASSIGN_OR_RETURN(MultiInput data, AlignSeries(names, series));
//   ModelSpec spec{"var", {{"max_lags", 8}, {"ic", "aic"}}};
//   ALMANAC_ASSIGN_OR_RETURN(auto model, CreateMultivariate(spec));
//   ALMANAC_RETURN_IF_ERROR(model->Fit(data));
//   ALMANAC_ASSIGN_OR_RETURN(MultiForecast fc, model->Predict({.horizon = 8}));
//   PathCondition rate{"us:tbilrate", {5.0, 5.5, NaN, ...}};     // NaN: not conditioned
//   ALMANAC_ASSIGN_OR_RETURN(MultiForecast sc, model->Predict({.horizon = 8, .conditions = {rate}}));
//   ALMANAC_ASSIGN_OR_RETURN(std::string bytes, SerializeMultivariate(*model));
//
// Model types (parameters: MultivariateModelTypes(); docs in src/models/var/README.md):
//   var   VAR(p) by OLS, statsmodels conventions (VAR.fit, select_order, forecast_interval,
//         irf, fevd, test_causality(kind="f")).
//   bvar  Bayesian VAR with a Litterman/Minnesota prior; hyperparameters by maximal marginal
//         likelihood over a grid; intervals by posterior predictive simulation (fixed seed).
//   arimax  regression with ARIMA errors (R forecast's Arima(y, xreg = X)): the `target`
//         variable on every other variable as a regressor; forecasts need the regressors'
//         known future paths, given as conditions (a full path per regressor). IRF, FEVD and
//         Granger are Unimplemented for it.
//
// Serialized form: the same envelope as univariate models,
//   {"format":"almanac-model","format_version":1,"spec":{"type":"var","params":{..}},"state":{..}}
// in canonical JSON, so identical fits give identical bytes. Their rows are in the same
// model-type table as the univariate types (ModelKind kMultivariate, kExogenous);
// ForecasterRegistry::Load (univariate) does not load them: use DeserializeMultivariate (or
// ForecasterRegistry::LoadMultivariate).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "almanac/core.h"
#include "almanac/core/json.h"
// models.h includes this header at its end; including it here too makes this header usable on
// its own (#pragma once stops the cycle, and ModelSpec/ParamSpec are then complete).
#include "almanac/models.h"

namespace almanac::models {

// K aligned series of equal length T in time order: values[i][t] is variable i at time t.
// Values must be finite (multivariate models reject missing values, naming the variable and
// period). `start` (optional) labels t = 0 in messages and forecasts.
struct MultiInput {
  std::vector<std::string> names;
  std::vector<std::vector<double>> values;
  std::optional<Period> start;

  int num_vars() const { return static_cast<int>(names.size()); }
  int64_t size() const { return values.empty() ? 0 : static_cast<int64_t>(values[0].size()); }
};

// Aligns series on their common span (the periods from the latest start to the earliest end).
// InvalidArgument when names and series differ in number, a name repeats, frequencies differ
// (naming both series), the series do not overlap, or a value inside the common span is missing
// (naming the series and period).
Result<MultiInput> AlignSeries(std::span<const std::string> names, std::span<const TimeSeries> series);

// Deterministic terms, named as statsmodels' `trend` argument: "n" none, "c" constant,
// "ct" constant and linear trend (the trend counts observations from 1 at the first one).
enum class VarTrend { kNone, kConstant, kConstantTrend };
Result<VarTrend> ParseVarTrend(std::string_view text);
std::string_view VarTrendName(VarTrend trend);

// Information criteria for lag selection (statsmodels `select_order` definitions):
// with Sigma the ML residual covariance, N the common sample size, K variables, d
// deterministic terms and q = p K^2 + K d free parameters,
//   AIC = ln|Sigma| + 2 q / N,  BIC = ln|Sigma| + ln(N) q / N,  HQ = ln|Sigma| + 2 ln(ln N) q / N,
//   FPE = ((N + Kp + d) / (N - Kp - d))^K |Sigma|.
enum class InfoCriterion { kAic, kBic, kHqic, kFpe };
Result<InfoCriterion> ParseInfoCriterion(std::string_view text);  // aic, bic, hqic (or hq), fpe
std::string_view InfoCriterionName(InfoCriterion ic);

// Every order 0..max_lags (1..max_lags without deterministic terms) fitted on the same sample
// (the last T - max_lags observations), as statsmodels' VAR.select_order.
struct LagOrderSelection {
  int max_lags = 0;
  int nobs = 0;  // the common sample
  std::vector<int> lags;
  std::vector<double> aic, bic, hqic, fpe;  // one per entry of `lags`
  int aic_order = 0, bic_order = 0, hqic_order = 0, fpe_order = 0;

  int Selected(InfoCriterion ic) const;
};
// InvalidArgument when max_lags < 1 or the data are too short for the largest model (naming
// how many observations it needs), or the system is collinear (naming the variables).
Result<LagOrderSelection> SelectVarOrder(const MultiInput& data, int max_lags, VarTrend trend);

// A fixed future path for one variable, for conditional forecasts: values[h-1] is the value
// at step h; NaN leaves that step free. Must have exactly `horizon` entries.
struct PathCondition {
  std::string variable;
  std::vector<double> values;
};

struct MultiPredictRequest {
  int horizon = 8;
  std::vector<double> levels{80, 95};     // percent, each in (0, 100)
  std::vector<PathCondition> conditions;  // empty: unconditional forecast
  // Return the simulated paths in MultiForecast::samples (for sample-based scores such as
  // CRPS). Analytic models then simulate from their Gaussian forecast distribution.
  bool keep_samples = false;
};

struct MultiInterval {
  double level = 0;
  std::vector<std::vector<double>> lower, upper;  // [variable][h-1]
};

struct MultiForecast {
  std::vector<std::string> names;
  std::optional<Period> first_period;     // the period of h = 1, when the input had a start
  std::vector<std::vector<double>> mean;  // [variable][h-1]
  std::vector<MultiInterval> intervals;   // one per requested level, in order
  // Simulated paths [variable][h-1][draw] when requested (else empty).
  std::vector<std::vector<std::vector<double>>> samples;
  std::string interval_method;  // e.g. "analytic (Gaussian, MSE without parameter uncertainty)"
  std::vector<std::string> notes;
};

// Fitted parameters. Coefficient rows are the regressors in statsmodels order: "const",
// "trend", then "L1.<name>" for every variable, "L2.<name>" ...; columns are the equations.
struct MultiDescription {
  std::string type;    // "var" or "bvar"
  std::string method;  // e.g. "VAR(2), constant"
  std::vector<std::string> names;
  int lags = 0;
  std::string trend;  // "n", "c", "ct"
  int nobs = 0;       // observations used in the regression (T - p)
  std::vector<std::string> regressors;
  std::vector<std::vector<double>> coefficients;  // [regressor][equation]
  std::vector<std::vector<double>> std_errors;    // same shape: OLS (var), posterior sd (bvar)
  std::vector<std::vector<double>> sigma_u;       // residual covariance, df-adjusted for var
  double loglik = 0, aic = 0, bic = 0, hqic = 0, fpe = 0;
  std::optional<LagOrderSelection> selection;
  // Moduli of the companion-matrix eigenvalues, largest first; stable when all are < 1.
  std::vector<double> eigen_moduli;
  bool stable = true;
  Json params = Json::object();  // type-specific (bvar: hyperparameters, log marginal likelihood)
  std::vector<std::string> notes;
};

struct IrfOptions {
  int periods = 10;        // responses for h = 0..periods
  bool orthogonal = true;  // Cholesky-orthogonalised shocks (variable order matters)
  int replications = 0;    // > 0: error bands (var: residual bootstrap; bvar: posterior draws)
  double level = 95;       // band coverage, percent
  std::uint64_t seed = 42;
};

struct ImpulseResponse {
  std::vector<std::string> names;
  bool orthogonal = true;
  // response[h][i][j]: response of variable i at horizon h to a shock in variable j.
  std::vector<std::vector<std::vector<double>>> response;
  double level = 0;                                            // 0 when there are no bands
  std::vector<std::vector<std::vector<double>>> lower, upper;  // same shape, or empty
  int replications = 0;
  std::string band_method;
};

// share[i][h][j]: fraction of variable i's (h+1)-step forecast error variance due to the
// orthogonalised shock j (statsmodels fevd(periods).decomp). Rows sum to 1.
struct VarianceDecomposition {
  std::vector<std::string> names;
  std::vector<std::vector<std::vector<double>>> share;
};

// Granger causality F test of "`causing` do not Granger-cause `caused`" (statsmodels
// test_causality(kind="f"): Wald statistic / restrictions, F(restrictions, K (T - Kp - d))).
struct CausalityTest {
  std::vector<std::string> caused, causing;
  double statistic = 0;
  double pvalue = 0;
  int df_num = 0, df_den = 0;
  double crit_value = 0;  // at the 5% level
};

// ---- Joint path simulation (Monte Carlo macro paths) ----------------------------------------
//
//   PathSimulationRequest req{.num_paths = 100000, .horizon = 8, .shocks = ShockDistribution::kStudentT,
//                             .t_dof = 5, .seed = 7};
//   ALMANAC_ASSIGN_OR_RETURN(SimulatedPaths paths, model->SimulatePaths(req));
//   double gdp_q3_path17 = paths.at(17, 2, 0);   // path 17, step h = 3, variable 0

// Shock distributions of simulated paths (see src/models/var/README.md, "Simulated paths"):
//   gaussian   u = P z, z ~ N(0, I), P the lower Cholesky factor of sigma_u;
//   t          multivariate Student t with `t_dof` degrees of freedom scaled to covariance sigma_u:
//              u = sqrt((nu - 2) / W) P z, W ~ chi2(nu) (one W per path and step);
//   bootstrap  whole residual vectors (all variables of one in-sample period, centred) drawn
//              with replacement, so cross-sectional dependence and fat tails are kept.
enum class ShockDistribution { kGaussian, kStudentT, kBootstrap };
// "gaussian" (or "normal"), "t" (or "student-t"), "bootstrap"; InvalidArgument otherwise.
Result<ShockDistribution> ParseShockDistribution(std::string_view text);
std::string_view ShockDistributionName(ShockDistribution shocks);

struct PathSimulationRequest {
  int num_paths = 1000;  // N >= 1
  int horizon = 8;       // H in 1..kMaxHorizon
  ShockDistribution shocks = ShockDistribution::kGaussian;
  double t_dof = 5;  // degrees of freedom of t shocks; must be > 2 (finite covariance)
  std::uint64_t seed = 42;
  // Hard conditions (Waggoner & Zha 1999), as for Predict: the conditioned (step, variable)
  // values are met exactly on every path and the free ones follow the conditional Gaussian
  // distribution. Gaussian shocks only.
  std::vector<PathCondition> conditions;
  // bvar only: draw the coefficients from the posterior once per path (var: InvalidArgument,
  // the OLS VAR has no posterior).
  bool parameter_uncertainty = false;
  int threads = 0;  // <= 0: HardwareThreads(); the result does not depend on it
};

// N paths x H steps x K variables, contiguous in [path][step][variable] order (row-major), so
// one path is one contiguous H x K block. 8 bytes per value: 100,000 x 8 x 10 = 64 MB.
struct SimulatedPaths {
  std::vector<std::string> names;
  std::optional<Period> first_period;  // the period of h = 1, when the input had a start
  int num_paths = 0, horizon = 0, num_vars = 0;
  std::vector<double> values;
  std::string method;  // shocks, seed, generator, conditions, parameter uncertainty
  std::vector<std::string> notes;

  // Value of `var` at step h = step + 1 (0-based step) on path `path`.
  double at(int path, int step, int var) const {
    return values[(static_cast<size_t>(path) * static_cast<size_t>(horizon) + static_cast<size_t>(step)) *
                      static_cast<size_t>(num_vars) +
                  static_cast<size_t>(var)];
  }
};

// The largest N x H x K simulated at once (2^27 values = 1 GiB of doubles).
inline constexpr std::int64_t kMaxPathValues = std::int64_t{1} << 27;

// A fitted multivariate model. Create with CreateMultivariate (or DeserializeMultivariate),
// Fit once, then query. Deterministic: the same data and spec give the same state and the same
// simulated numbers, bit for bit, independent of threads. Thread-compatible: const methods may
// run concurrently after Fit returns.
class MultivariateForecaster {
 public:
  virtual ~MultivariateForecaster() = default;

  virtual const ModelSpec& spec() const = 0;

  // Fits on `data`. InvalidArgument for missing values, too few observations for the lags
  // (saying how many are needed), or a collinear system (naming the variables). A system with
  // an explosive root fits, with a note naming the variables involved.
  virtual Status Fit(const MultiInput& data) = 0;

  // Point forecasts and intervals for h = 1..horizon, unconditional or conditional on
  // request.conditions (Waggoner & Zha 1999; see src/models/var/README.md).
  // FailedPrecondition before Fit; InvalidArgument for a bad horizon or level, a condition on
  // an unknown variable or with a path whose length is not the horizon.
  virtual Result<MultiForecast> Predict(const MultiPredictRequest& request) const = 0;

  // FailedPrecondition before Fit.
  virtual Result<MultiDescription> Describe() const = 0;
  virtual Result<ImpulseResponse> ImpulseResponses(const IrfOptions& options) const = 0;
  // periods >= 1.
  virtual Result<VarianceDecomposition> Fevd(int periods) const = 0;
  // NotFound for an unknown variable; InvalidArgument when a variable is in both lists;
  // Unimplemented for bvar (the F test is a frequentist OLS test).
  virtual Result<CausalityTest> Granger(std::span<const std::string> caused,
                                        std::span<const std::string> causing) const = 0;

  // The fitted state as JSON (see SerializeMultivariate). FailedPrecondition before Fit.
  virtual Result<Json> SaveState() const = 0;

  // Joint simulation of request.num_paths paths of request.horizon steps from the fitted model
  // (var, bvar), with the shocks, conditions and parameter uncertainty of the request.
  // Random numbers are counter-based (Philox4x32-10 keyed by the seed): the draws of path i at
  // step h depend only on (seed, i, h), so the result is bit-identical for any thread count and
  // the first n paths do not depend on num_paths. Runs on request.threads threads.
  // FailedPrecondition before Fit; InvalidArgument for num_paths < 1, a horizon outside
  // 1..kMaxHorizon, N x H x K > kMaxPathValues, t_dof <= 2 (or not finite), a residual
  // covariance that is not positive definite, conditions with non-Gaussian shocks or on unknown
  // variables or of the wrong length, contradictory conditions, or parameter uncertainty for a
  // model without a posterior; Unimplemented for model types that do not simulate (arimax).
  // Thread-safe (const).
  virtual Result<SimulatedPaths> SimulatePaths(const PathSimulationRequest& request) const;
};

// The functions below answer from the built-in rows of the one model-type table
// (RegisterBuiltinModels; a ForecasterRegistry filled by it has the same answers in
// ValidateMultivariate, CreateMultivariate and LoadMultivariate).

// A multivariate model type is a row of the model-type table (kind kMultivariate or
// kExogenous): name, description, declared parameters.
using MultivariateModelType = ModelType;
// The built-in multivariate and exogenous rows (var, bvar, arimax), in registration order.
const std::vector<MultivariateModelType>& MultivariateModelTypes();

// NotFound (with did-you-mean) for an unknown type; InvalidArgument for an undeclared
// parameter or a value of the wrong type or range.
Status ValidateMultivariateSpec(const ModelSpec& spec);
Result<std::unique_ptr<MultivariateForecaster>> CreateMultivariate(const ModelSpec& spec);

// The envelope and its canonical bytes. FailedPrecondition for an unfitted model.
Result<Json> MultivariateEnvelope(const MultivariateForecaster& model);
Result<std::string> SerializeMultivariate(const MultivariateForecaster& model);
// Rebuilds a fitted model. InvalidArgument/FailedPrecondition for a foreign or unsupported
// envelope, DataLoss for a malformed state. Never executes anything from the bytes.
Result<std::unique_ptr<MultivariateForecaster>> LoadMultivariate(const Json& envelope);
Result<std::unique_ptr<MultivariateForecaster>> DeserializeMultivariate(std::string_view bytes);

// ---- Scenario files -------------------------------------------------------------------------
//
// A YAML file of named scenarios (conventionally baseline, adverse, severely_adverse):
//
//   horizon: 8                      # optional; list paths must have exactly this many entries
//   series: [us:realgdp, us:cpi]    # optional: the model's variables, in order
//   model: {type: bvar, params: {lags: 4}}   # optional
//   scenarios:
//     baseline:
//       description: no conditions (the unconditional forecast)
//     adverse:
//       paths:
//         us:tbilrate: [5.0, 5.5, 6.0, null, null, null, null, null]   # null: free
//     severely_adverse:
//       paths:
//         us:tbilrate: {2010Q1: 7.0, 2010Q2: 7.5}   # by period (must be inside the horizon)
//
// Errors name the file, the line and the key (e.g. "scen.yaml:9: scenarios.adverse.paths.x:
// ...").

// One path as written: either a list (one entry per step, NaN for null) or period -> value.
struct ScenarioPath {
  std::string variable;
  std::vector<double> steps;                              // list form
  std::vector<std::pair<std::string, double>> by_period;  // mapping form
  bool is_list = true;
  int line = 0;  // 1-based line of the variable's key in the file
};

struct Scenario {
  std::string name;
  std::string description;
  std::vector<ScenarioPath> paths;
  int line = 0;
};

struct ScenarioSet {
  std::string file;  // for messages
  std::optional<int> horizon;
  std::vector<std::string> series;
  std::optional<std::string> model_type;
  Json model_params = Json::object();
  std::vector<Scenario> scenarios;  // in file order
};

// Parses scenario YAML. `file_name` is used in messages only. InvalidArgument with
// "file:line: key: problem" for malformed YAML, unknown keys, non-numeric values, a duplicate
// scenario or variable, or a list path whose length differs from the file's `horizon`. A
// scenario without paths is the unconditional forecast.
Result<ScenarioSet> ParseScenarios(std::string_view yaml_text, std::string_view file_name);
// Reads and parses a file (NotFound when it cannot be read).
Result<ScenarioSet> ReadScenarioFile(const std::string& path);

// The conditions of one scenario for a model with variables `names` whose forecast starts at
// `first_period` (needed for by-period paths) over `horizon` steps. InvalidArgument naming the
// file, line and key for an unknown variable, a list of the wrong length or a period outside
// the horizon or of another frequency.
Result<std::vector<PathCondition>> ResolveScenario(const ScenarioSet& set, const Scenario& scenario,
                                                   std::span<const std::string> names,
                                                   std::optional<Period> first_period, int horizon);

}  // namespace almanac::models
