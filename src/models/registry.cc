// The model registry, parameter validation, the serialized envelope and FitMany.
#include <algorithm>
#include <cmath>

#include "almanac/models.h"
#include "models/boxcox/boxcox.h"
#include "models/calibrate/calibrate.h"
#include "models/param_types.h"

namespace almanac::models {
namespace {

// Parameters every model type accepts; handled by the Box-Cox and calibration wrappers.
const std::vector<ParamSpec>& CommonParams() {
  static const std::vector<ParamSpec> kParams = {
      {"lambda", "any", nullptr, "Box-Cox parameter: null (none), a number, or \"auto\" (Guerrero)"},
      {"biasadj", "bool", false, "bias-adjusted back-transform of the mean when lambda is set"},
      {"calibrate", "any", nullptr,
       "interval calibration on rolling-origin errors: null/false (off), true, or {origins, horizon, method, "
       "min_errors, min_factor, max_factor}"},
  };
  return kParams;
}

}  // namespace

bool ParamTypeMatches(const std::string& type, const Json& v) {
  if (type == "any") return true;
  if (type == "number") return v.is_number();
  if (type == "int") return v.is_number_integer() || (v.is_number_float() && std::floor(v.get<double>()) == v.get<double>());
  if (type == "bool") return v.is_boolean();
  if (type == "string") return v.is_string();
  if (type == "list") return v.is_array();
  return false;
}

FitInput ToFitInput(const TimeSeries& series) {
  return FitInput{series.values(), SeasonalPeriod(series.frequency())};
}

Status ValidateHorizon(int horizon) {
  if (horizon < 1) return InvalidArgumentError("horizon must be at least 1, got " + std::to_string(horizon));
  if (horizon > kMaxHorizon)
    return InvalidArgumentError("horizon " + std::to_string(horizon) + " is larger than the maximum " +
                                std::to_string(kMaxHorizon));
  return Status::Ok();
}

Status ValidatePredictArgs(int horizon, std::span<const double> levels) {
  ALMANAC_RETURN_IF_ERROR(ValidateHorizon(horizon));
  for (double l : levels) {
    if (!(l > 0 && l < 100))
      return InvalidArgumentError("interval level " + FormatDouble(l) + " is not in (0, 100) (levels are percentages)");
  }
  return Status::Ok();
}

namespace {

bool IsMultivariateKind(ModelKind kind) { return kind != ModelKind::kUnivariate; }

// Checks spec.params against the declared parameters of `type` (plus `common`) and the type's
// value checks.
Status ValidateParams(const ModelType& type, const ModelSpec& spec, std::span<const ParamSpec> common) {
  if (spec.params.is_null()) return Status::Ok();
  if (!spec.params.is_object())
    return InvalidArgumentError("parameters of model '" + spec.type + "' must be a mapping");
  std::vector<std::string> known;
  for (const auto& p : type.params) known.push_back(p.name);
  for (const auto& p : common) known.push_back(p.name);
  for (auto it = spec.params.begin(); it != spec.params.end(); ++it) {
    const ParamSpec* ps = nullptr;
    for (const auto& p : type.params)
      if (p.name == it.key()) ps = &p;
    for (const auto& p : common)
      if (p.name == it.key()) ps = &p;
    if (ps == nullptr) {
      std::string msg = "model '" + spec.type + "' has no parameter '" + it.key() + "'";
      std::string hint = DidYouMean(it.key(), known);
      if (!hint.empty()) msg += " (did you mean '" + hint + "'?)";
      return InvalidArgumentError(msg);
    }
    if (!it.value().is_null() && !ParamTypeMatches(ps->type, it.value()))
      return InvalidArgumentError("parameter '" + it.key() + "' of model '" + spec.type + "' must be of type " +
                                  ps->type + ", got " + CompactJson(it.value()));
  }
  // Value checks use the same parsers as Fit, so bad values fail here rather than later.
  if (type.check_params) return type.check_params(spec.params);
  return Status::Ok();
}

Status UnknownType(const ModelSpec& spec, std::string_view what, const std::vector<std::string>& names) {
  std::string msg = "unknown " + std::string(what) + "model type '" + spec.type + "'";
  std::string hint = DidYouMean(spec.type, names);
  if (!hint.empty()) msg += " (did you mean '" + hint + "'?)";
  std::string all;
  for (const auto& n : names) all += (all.empty() ? "" : ", ") + n;
  return NotFoundError(msg + "; known types: " + all);
}

// The envelope of every model: {"format":"almanac-model","format_version":1,"spec":..,"state":..}.
Json MakeEnvelope(const ModelSpec& spec, Json state) {
  Json env = Json::object();
  env["format"] = "almanac-model";
  env["format_version"] = kModelFormatVersion;
  env["spec"] = {{"type", spec.type}, {"params", spec.params.is_null() ? Json::object() : spec.params}};
  env["state"] = std::move(state);
  return env;
}

// The spec of an envelope, after checking its format, version and shape (not the type).
Result<ModelSpec> ParseEnvelope(const Json& env) {
  if (!env.is_object() || env.value("format", "") != "almanac-model")
    return InvalidArgumentError("not an almanac model: missing \"format\":\"almanac-model\"");
  if (!env.contains("format_version") || !env["format_version"].is_number_integer())
    return InvalidArgumentError("almanac model has no integer format_version");
  const int v = env["format_version"].get<int>();
  if (v != kModelFormatVersion)
    return FailedPreconditionError("almanac model format version " + std::to_string(v) +
                                   " is not supported by this build (supports " + std::to_string(kModelFormatVersion) + ")");
  if (!env.contains("spec") || !env["spec"].is_object() || !env["spec"].contains("type") ||
      !env["spec"]["type"].is_string())
    return InvalidArgumentError("almanac model has no spec.type");
  if (!env.contains("state")) return InvalidArgumentError("almanac model has no state");
  return ModelSpec{env["spec"]["type"].get<std::string>(), env["spec"].value("params", Json::object())};
}

Status MalformedState(const ModelSpec& spec, const Json::exception& e) {
  return DataLossError("malformed state for model type '" + spec.type + "': " + e.what());
}

}  // namespace

Status ForecasterRegistry::Register(ModelType type) {
  const bool complete =
      IsMultivariateKind(type.kind) ? type.create_multivariate && type.load_multivariate : type.create && type.load;
  if (!complete) return InvalidArgumentError("model type '" + type.name + "' lacks a factory or loader");
  if (Find(type.name) != nullptr) return AlreadyExistsError("model type '" + type.name + "' is already registered");
  types_.push_back(std::move(type));
  return Status::Ok();
}

const ModelType* ForecasterRegistry::Find(std::string_view name) const {
  for (const auto& t : types_)
    if (t.name == name) return &t;
  return nullptr;
}

const ModelType* ForecasterRegistry::FindOf(std::string_view name, bool multivariate) const {
  const ModelType* t = Find(name);
  return t != nullptr && IsMultivariateKind(t->kind) == multivariate ? t : nullptr;
}

std::vector<std::string> ForecasterRegistry::Names() const { return Names(ModelKind::kUnivariate); }

std::vector<std::string> ForecasterRegistry::Names(ModelKind kind) const {
  std::vector<std::string> names;
  for (const auto& t : types_)
    if (t.kind == kind) names.push_back(t.name);
  return names;
}

Status ForecasterRegistry::Validate(const ModelSpec& spec) const {
  const ModelType* type = FindOf(spec.type, false);
  if (type == nullptr) return UnknownType(spec, "", Names());
  return ValidateParams(*type, spec, CommonParams());
}

Result<std::unique_ptr<Forecaster>> ForecasterRegistry::Create(const ModelSpec& spec) const {
  ALMANAC_RETURN_IF_ERROR(Validate(spec));
  const ModelType* type = FindOf(spec.type, false);
  // Calibration wraps everything else (it refits the rest, Box-Cox included, per origin).
  if (CalibrationRequested(spec.params)) return CreateCalibrated(spec, *this);
  if (BoxCoxRequested(spec.params)) return CreateBoxCox(spec, *type, *this);
  return type->create(spec, *this);
}

Result<std::unique_ptr<Forecaster>> ForecasterRegistry::Load(const Json& env) const {
  ALMANAC_ASSIGN_OR_RETURN(ModelSpec spec, ParseEnvelope(env));
  ALMANAC_RETURN_IF_ERROR(Validate(spec));
  const ModelType* type = FindOf(spec.type, false);
  try {
    if (CalibrationRequested(spec.params)) return LoadCalibrated(spec, env["state"], *this);
    if (BoxCoxRequested(spec.params)) return LoadBoxCox(spec, env["state"], *type, *this);
    return type->load(spec, env["state"], *this);
  } catch (const Json::exception& e) {
    return MalformedState(spec, e);
  }
}

Result<std::unique_ptr<Forecaster>> ForecasterRegistry::Deserialize(std::string_view bytes) const {
  ALMANAC_ASSIGN_OR_RETURN(Json env, ParseJson(bytes));
  return Load(env);
}

Status ForecasterRegistry::ValidateMultivariate(const ModelSpec& spec) const {
  const ModelType* type = FindOf(spec.type, true);
  if (type == nullptr) {
    std::vector<std::string> names;
    for (const auto& t : types_)
      if (IsMultivariateKind(t.kind)) names.push_back(t.name);
    return UnknownType(spec, "multivariate ", names);
  }
  return ValidateParams(*type, spec, {});
}

Result<std::unique_ptr<MultivariateForecaster>> ForecasterRegistry::CreateMultivariate(const ModelSpec& spec) const {
  ALMANAC_RETURN_IF_ERROR(ValidateMultivariate(spec));
  return FindOf(spec.type, true)->create_multivariate(spec);
}

Result<std::unique_ptr<MultivariateForecaster>> ForecasterRegistry::LoadMultivariate(const Json& env) const {
  ALMANAC_ASSIGN_OR_RETURN(ModelSpec spec, ParseEnvelope(env));
  ALMANAC_RETURN_IF_ERROR(ValidateMultivariate(spec));
  try {
    return FindOf(spec.type, true)->load_multivariate(spec, env["state"]);
  } catch (const Json::exception& e) {
    return MalformedState(spec, e);
  }
}

namespace {

// The envelope and its canonical bytes, for models of either interface.
template <typename Model>
Result<Json> EnvelopeOf(const Model& model) {
  ALMANAC_ASSIGN_OR_RETURN(Json state, model.SaveState());
  return MakeEnvelope(model.spec(), std::move(state));
}

template <typename Model>
Result<std::string> CanonicalEnvelopeOf(const Model& model) {
  ALMANAC_ASSIGN_OR_RETURN(Json env, EnvelopeOf(model));
  return CanonicalJson(env);
}

}  // namespace

Result<Json> ModelEnvelope(const Forecaster& model) { return EnvelopeOf(model); }
Result<std::string> SerializeModel(const Forecaster& model) { return CanonicalEnvelopeOf(model); }
Result<Json> MultivariateEnvelope(const MultivariateForecaster& model) { return EnvelopeOf(model); }
Result<std::string> SerializeMultivariate(const MultivariateForecaster& model) { return CanonicalEnvelopeOf(model); }

std::vector<Result<std::unique_ptr<Forecaster>>> FitMany(const ForecasterRegistry& registry, const ModelSpec& spec,
                                                         std::span<const FitInput> inputs, int threads) {
  std::vector<Result<std::unique_ptr<Forecaster>>> out;
  out.reserve(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) out.emplace_back(InternalError("not fitted"));
  ParallelFor(inputs.size(), threads, [&](size_t i) {
    auto m = registry.Create(spec);
    if (!m.ok()) {
      out[i] = m.status();
      return;
    }
    Status s = (*m)->Fit(inputs[i]);
    if (!s.ok()) {
      out[i] = s;
      return;
    }
    out[i] = std::move(*m);
  });
  return out;
}

Result<double> GetNumberParam(const Json& params, std::string_view name, double fallback) {
  if (!params.is_object()) return fallback;
  auto it = params.find(std::string(name));
  if (it == params.end() || it->is_null()) return fallback;
  if (!it->is_number()) return InvalidArgumentError("parameter '" + std::string(name) + "' must be a number");
  double v = it->get<double>();
  if (!std::isfinite(v)) return InvalidArgumentError("parameter '" + std::string(name) + "' must be finite");
  return v;
}

Result<int> GetIntParam(const Json& params, std::string_view name, int fallback) {
  if (!params.is_object()) return fallback;
  auto it = params.find(std::string(name));
  if (it == params.end() || it->is_null()) return fallback;
  if (it->is_number_integer()) return it->get<int>();
  if (it->is_number_float() && std::floor(it->get<double>()) == it->get<double>() && std::abs(it->get<double>()) < 1e9)
    return static_cast<int>(it->get<double>());
  return InvalidArgumentError("parameter '" + std::string(name) + "' must be an integer");
}

Result<bool> GetBoolParam(const Json& params, std::string_view name, bool fallback) {
  if (!params.is_object()) return fallback;
  auto it = params.find(std::string(name));
  if (it == params.end() || it->is_null()) return fallback;
  if (!it->is_boolean()) return InvalidArgumentError("parameter '" + std::string(name) + "' must be true or false");
  return it->get<bool>();
}

Result<std::string> GetStringParam(const Json& params, std::string_view name, std::string fallback) {
  if (!params.is_object()) return fallback;
  auto it = params.find(std::string(name));
  if (it == params.end() || it->is_null()) return fallback;
  if (!it->is_string()) return InvalidArgumentError("parameter '" + std::string(name) + "' must be a string");
  return it->get<std::string>();
}

double NormalQuantile(double p) {
  if (!(p > 0 && p < 1)) {
    if (p == 0) return -std::numeric_limits<double>::infinity();
    if (p == 1) return std::numeric_limits<double>::infinity();
    return std::numeric_limits<double>::quiet_NaN();
  }
  // Acklam's rational approximation, then one Halley step on erfc for full precision.
  static constexpr double a[] = {-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
                                 1.383577518672690e+02,  -3.066479806614716e+01, 2.506628277459239e+00};
  static constexpr double b[] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                                 6.680131188771972e+01,  -1.328068155288572e+01};
  static constexpr double c[] = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                                 -2.549732539343734e+00, 4.374664141464968e+00,  2.938163982698783e+00};
  static constexpr double d[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                                 3.754408661907416e+00};
  constexpr double kLow = 0.02425;
  double x;
  if (p < kLow) {
    double q = std::sqrt(-2 * std::log(p));
    x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
        ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  } else if (p <= 1 - kLow) {
    double q = p - 0.5, r = q * q;
    x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
        (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
  } else {
    double q = std::sqrt(-2 * std::log1p(-p));
    x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
        ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  for (int i = 0; i < 2; ++i) {
    double e = 0.5 * std::erfc(-x / std::sqrt(2.0)) - p;
    double u = e * std::sqrt(2 * M_PI) * std::exp(x * x / 2);
    x = x - u / (1 + x * u / 2);
  }
  return x;
}

}  // namespace almanac::models
