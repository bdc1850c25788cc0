// File: almanac/models.h
//
// The models component: the Forecaster interface, model specs, the registry of model types,
// the self-describing serialized form, and fitting many series in parallel. It knows nothing
// of storage (series arrive as plain values) and depends only on core.
//
//   ForecasterRegistry registry;
//   RegisterBuiltinModels(registry);
//   ModelSpec spec{"auto_ets", Json::object()};
//   ALMANAC_ASSIGN_OR_RETURN(auto model, registry.Create(spec));
//   ALMANAC_RETURN_IF_ERROR(model->Fit({values, /*period=*/4}));
//   ALMANAC_ASSIGN_OR_RETURN(Forecast fc, model->Predict(8, {80, 95}));
//   ALMANAC_ASSIGN_OR_RETURN(std::string bytes, SerializeModel(*model));
//   ALMANAC_ASSIGN_OR_RETURN(auto again, registry.Deserialize(bytes));  // identical model
//
// Every model type accepts common parameters handled by the registry:
//   lambda     null (default) | number | "auto"   Box-Cox transform before fitting
//   biasadj    bool (default false)              bias-adjusted back-transform of the mean
//   calibrate  null/false (default) | true | {origins, horizon, method, ...}: prediction
//              intervals widened by the model's own rolling-origin out-of-sample errors on the
//              training data (point forecasts unchanged; see docs/models.md "Calibrated
//              intervals")
#pragma once

#include <cmath>
#include <functional>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "almanac/core.h"
#include "almanac/core/json.h"

namespace almanac::models {

// The version of the serialized model envelope written by SerializeModel().
inline constexpr int kModelFormatVersion = 1;

// What a model is fitted on. `y` holds the observations in time order with missing values
// as NaN (see TimeSeries); `period` is the seasonal period m (1 for none, 4 quarterly,
// 12 monthly). The data must stay alive during Fit() only.
struct FitInput {
  std::span<const double> y;
  int period = 1;
};

// Builds a FitInput from a TimeSeries (period = SeasonalPeriod(frequency)).
FitInput ToFitInput(const TimeSeries& series);

struct PredictionInterval {
  double level = 0;  // percent, in (0, 100)
  std::vector<double> lower;
  std::vector<double> upper;
};

struct Forecast {
  std::vector<double> mean;
  // One entry per requested level, in the requested order.
  std::vector<PredictionInterval> intervals;
  // Fallbacks and warnings a user should see (e.g. "series too short for seasonal ETS;
  // fitted ETS(A,N,N)").
  std::vector<std::string> notes;
};

// Fitted parameters and information criteria. Quantities that do not apply are NaN.
struct ModelDescription {
  std::string type;    // registry name, e.g. "auto_ets"
  std::string method;  // the fitted form, e.g. "ETS(M,Ad,N)" or "ARIMA(0,1,1)(0,1,1)[12]"
  Json params = Json::object();  // fitted parameters, e.g. {"alpha":0.3,"beta":0.01}
  double loglik = std::numeric_limits<double>::quiet_NaN();
  double aic = std::numeric_limits<double>::quiet_NaN();
  double aicc = std::numeric_limits<double>::quiet_NaN();
  double bic = std::numeric_limits<double>::quiet_NaN();
  double sigma2 = std::numeric_limits<double>::quiet_NaN();
  int nobs = 0;
  std::vector<std::string> notes;
};

// A model type name plus its parameters (a JSON object).
struct ModelSpec {
  std::string type;
  Json params = Json::object();
};

// A forecasting model. Create through ForecasterRegistry; Fit once, then Predict any number of
// times. Thread-compatible: const methods may run concurrently after Fit returns.
class Forecaster {
 public:
  virtual ~Forecaster() = default;

  // The spec this model was created from (type and parameters as given).
  virtual const ModelSpec& spec() const = 0;

  // Fits on `input`. InvalidArgument for data the model cannot use (too short with no
  // fallback, non-positive values for a multiplicative model, missing values where the
  // model cannot handle them), naming the problem. Deterministic: the same input and spec
  // give the same fitted state, bit for bit, independent of threads.
  virtual Status Fit(const FitInput& input) = 0;

  // Point forecasts and intervals for h = 1..horizon at the given levels (percent, each in
  // (0,100)). FailedPrecondition before Fit; InvalidArgument for horizon < 1 or
  // horizon > kMaxHorizon, or a level outside (0,100). Never returns NaN silently.
  virtual Result<Forecast> Predict(int horizon, std::span<const double> levels) const = 0;

  // Fitted parameters and information criteria.
  virtual ModelDescription Describe() const = 0;

  // In-sample one-step-ahead fitted values, aligned with the fitted y (NaN where undefined).
  virtual std::vector<double> Fitted() const = 0;

  // The fitted state as JSON, enough for the type's loader to rebuild an identical model.
  // FailedPrecondition before Fit.
  virtual Result<Json> SaveState() const = 0;
};

inline constexpr int kMaxHorizon = 10000;
// The horizon of a forecast when none is given: the CLI's --horizon, a pipeline's `horizon:`,
// a package without one.
inline constexpr int kDefaultHorizon = 8;

// The one horizon rule: 1..kMaxHorizon. InvalidArgument "horizon must be at least 1, got H" or
// "horizon H is larger than the maximum 10000".
Status ValidateHorizon(int horizon);
// Checks a horizon (ValidateHorizon) and levels the way every Predict() does.
Status ValidatePredictArgs(int horizon, std::span<const double> levels);

class ForecasterRegistry;
class MultivariateForecaster;  // almanac/models/multivariate.h

// Declares one parameter of a model type, for validation, help text and did-you-mean.
struct ParamSpec {
  std::string name;
  std::string type;  // "int", "number", "bool", "string", "list", "any"
  Json default_value;
  std::string description;
};

// What a model type forecasts, and so which interface its models implement.
enum class ModelKind {
  kUnivariate,    // one series (Forecaster): naive, ets, arima, ...
  kMultivariate,  // a system of series (MultivariateForecaster): var, bvar
  kExogenous,     // one target on regressors with known future paths (MultivariateForecaster): arimax
};

// One row of the registry. Univariate rows set `create` and `load`; multivariate and exogenous
// rows set `create_multivariate` and `load_multivariate`.
struct ModelType {
  std::string name;
  std::string description;
  std::vector<ParamSpec> params;
  // Creates an unfitted model from validated params.
  std::function<Result<std::unique_ptr<Forecaster>>(const ModelSpec&, const ForecasterRegistry&)> create;
  // Rebuilds a fitted model from its spec and SaveState() output.
  std::function<Result<std::unique_ptr<Forecaster>>(const ModelSpec&, const Json& state,
                                                    const ForecasterRegistry&)>
      load;
  ModelKind kind = ModelKind::kUnivariate;
  std::function<Result<std::unique_ptr<MultivariateForecaster>>(const ModelSpec&)> create_multivariate;
  std::function<Result<std::unique_ptr<MultivariateForecaster>>(const ModelSpec&, const Json& state)> load_multivariate;
  // Optional checks of parameter values beyond their declared types (InvalidArgument naming
  // the parameter), run by validation so that bad values fail before Fit.
  std::function<Status(const Json& params)> check_params;
};

// Maps model type names of every kind to factories and loaders: the one table of model types.
// Not a global: create one and pass it. Thread-safe for concurrent const use after
// registration is done.
class ForecasterRegistry {
 public:
  // AlreadyExists when the name is taken (by a type of any kind); InvalidArgument when the
  // factory or loader of the row's kind is missing.
  Status Register(ModelType type);
  // nullptr when unknown (any kind).
  const ModelType* Find(std::string_view name) const;
  // The univariate type names, in registration order.
  std::vector<std::string> Names() const;
  // The names of one kind, in registration order.
  std::vector<std::string> Names(ModelKind kind) const;
  // Every row, of every kind, in registration order.
  const std::vector<ModelType>& types() const { return types_; }

  // Univariate types. Checks the type exists (NotFound with a did-you-mean) and every
  // parameter is declared (InvalidArgument with a did-you-mean) and of its declared type.
  Status Validate(const ModelSpec& spec) const;
  // Validates, then creates an unfitted model (wrapped in a Box-Cox transform when `lambda`
  // is set, and in the interval calibration when `calibrate` is set; a calibrated model keeps
  // a pointer to this registry, which must outlive it).
  Result<std::unique_ptr<Forecaster>> Create(const ModelSpec& spec) const;
  // Rebuilds a model from SerializeModel() bytes. InvalidArgument/DataLoss for malformed or
  // unsupported input; never executes anything from the bytes.
  Result<std::unique_ptr<Forecaster>> Deserialize(std::string_view bytes) const;
  // Same, from the already-parsed envelope.
  Result<std::unique_ptr<Forecaster>> Load(const Json& envelope) const;

  // Multivariate and exogenous types, with the same checks and envelope (see
  // almanac/models/multivariate.h: ValidateMultivariateSpec and friends answer from the
  // built-in rows).
  Status ValidateMultivariate(const ModelSpec& spec) const;
  Result<std::unique_ptr<MultivariateForecaster>> CreateMultivariate(const ModelSpec& spec) const;
  Result<std::unique_ptr<MultivariateForecaster>> LoadMultivariate(const Json& envelope) const;

 private:
  const ModelType* FindOf(std::string_view name, bool multivariate) const;

  std::vector<ModelType> types_;
};

// Adds every built-in model type, univariate and multivariate (one row each; see
// src/models/builtin.cc).
void RegisterBuiltinModels(ForecasterRegistry& registry);

// The self-describing serialized form (canonical JSON, so identical models give identical
// bytes): {"format":"almanac-model","format_version":1,"spec":{"type":..,"params":..},
// "state":..}. FailedPrecondition for an unfitted model.
Result<std::string> SerializeModel(const Forecaster& model);
Result<Json> ModelEnvelope(const Forecaster& model);

// Fits one model per input in parallel on `threads` threads (<= 0: all cores). Result i
// belongs to input i and does not depend on the thread count.
std::vector<Result<std::unique_ptr<Forecaster>>> FitMany(const ForecasterRegistry& registry,
                                                         const ModelSpec& spec,
                                                         std::span<const FitInput> inputs, int threads);

// Reads a typed parameter with a default, for model implementations. InvalidArgument when
// present with the wrong type.
Result<double> GetNumberParam(const Json& params, std::string_view name, double fallback);
Result<int> GetIntParam(const Json& params, std::string_view name, int fallback);
Result<bool> GetBoolParam(const Json& params, std::string_view name, bool fallback);
Result<std::string> GetStringParam(const Json& params, std::string_view name, std::string fallback);

// The standard normal quantile function (inverse CDF), accurate to ~1e-15.
double NormalQuantile(double p);
// z such that a central `level`% interval is mean ± z·sd.
inline double IntervalZ(double level) { return NormalQuantile(0.5 + level / 200.0); }

}  // namespace almanac::models

// Multivariate models (VAR, BVAR), their analysis and scenario files.
#include "almanac/models/multivariate.h"
// Hierarchical and grouped forecast reconciliation (issue 25).
#include "almanac/models/reconcile.h"
