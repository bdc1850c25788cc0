// The public multivariate API: data alignment, enums, the two model types, validation and the
// serialized envelope.
#include <algorithm>
#include <cmath>

#include "almanac/models.h"

#include "models/arimax/arimax.h"
#include "models/param_types.h"
#include "models/var/var_model.h"

namespace almanac::models {

Result<MultiInput> AlignSeries(std::span<const std::string> names, std::span<const TimeSeries> series) {
  if (names.size() != series.size())
    return InvalidArgumentError(std::to_string(names.size()) + " names but " + std::to_string(series.size()) +
                                " series");
  if (series.empty()) return InvalidArgumentError("no series given");
  for (size_t i = 0; i < names.size(); ++i) {
    for (size_t j = 0; j < i; ++j)
      if (names[i] == names[j]) return InvalidArgumentError("series " + names[i] + " is given twice");
    if (series[i].empty()) return InvalidArgumentError("series " + names[i] + " has no observations");
    if (series[i].frequency() != series[0].frequency())
      return InvalidArgumentError("mismatched frequencies: " + names[0] + " is " +
                                  std::string(FrequencyCode(series[0].frequency())) + " but " + names[i] + " is " +
                                  std::string(FrequencyCode(series[i].frequency())) +
                                  " (convert them to one frequency first)");
  }
  // The common span of the trimmed series (leading/trailing missing values do not count).
  std::vector<TimeSeries> trimmed;
  for (const auto& s : series) trimmed.push_back(s.Trimmed());
  for (size_t i = 0; i < trimmed.size(); ++i)
    if (trimmed[i].empty()) return InvalidArgumentError("series " + names[i] + " has no observations");
  Period first = trimmed[0].start(), last = trimmed[0].end();
  for (const auto& s : trimmed) {
    first = std::max(first, s.start());
    last = std::min(last, s.end());
  }
  if (last < first) return InvalidArgumentError("the series do not overlap in time");
  MultiInput out;
  out.start = first;
  const int64_t n = *last.Diff(first) + 1;
  for (size_t i = 0; i < trimmed.size(); ++i) {
    std::vector<double> col;
    col.reserve(static_cast<size_t>(n));
    for (int64_t t = 0; t < n; ++t) {
      auto v = trimmed[i].at(first + t);
      if (!v)
        return InvalidArgumentError("series " + names[i] + " has a missing value at " + (first + t).ToString() +
                                    " inside the common span " + first.ToString() + ".." + last.ToString() +
                                    " (multivariate models need complete data)");
      col.push_back(*v);
    }
    out.names.push_back(names[i]);
    out.values.push_back(std::move(col));
  }
  return out;
}

Result<VarTrend> ParseVarTrend(std::string_view text) {
  if (text == "n" || text == "nc") return VarTrend::kNone;
  if (text == "c") return VarTrend::kConstant;
  if (text == "ct") return VarTrend::kConstantTrend;
  return InvalidArgumentError("unknown trend '" + std::string(text) +
                              "': use n (none), c (constant) or ct (constant and trend)");
}

Result<ShockDistribution> ParseShockDistribution(std::string_view text) {
  if (text == "gaussian" || text == "normal") return ShockDistribution::kGaussian;
  if (text == "t" || text == "student-t") return ShockDistribution::kStudentT;
  if (text == "bootstrap") return ShockDistribution::kBootstrap;
  return InvalidArgumentError("unknown shock distribution '" + std::string(text) +
                              "': use gaussian, t or bootstrap");
}

std::string_view ShockDistributionName(ShockDistribution shocks) {
  switch (shocks) {
    case ShockDistribution::kGaussian:
      return "gaussian";
    case ShockDistribution::kStudentT:
      return "t";
    case ShockDistribution::kBootstrap:
      return "bootstrap";
  }
  return "gaussian";
}

Result<SimulatedPaths> MultivariateForecaster::SimulatePaths(const PathSimulationRequest&) const {
  return UnimplementedError("model type '" + spec().type + "' does not simulate paths; use var or bvar");
}

std::string_view VarTrendName(VarTrend trend) {
  switch (trend) {
    case VarTrend::kNone:
      return "n";
    case VarTrend::kConstant:
      return "c";
    case VarTrend::kConstantTrend:
      return "ct";
  }
  return "?";
}

Result<InfoCriterion> ParseInfoCriterion(std::string_view text) {
  if (text == "aic") return InfoCriterion::kAic;
  if (text == "bic") return InfoCriterion::kBic;
  if (text == "hqic" || text == "hq") return InfoCriterion::kHqic;
  if (text == "fpe") return InfoCriterion::kFpe;
  return InvalidArgumentError("unknown information criterion '" + std::string(text) + "': use aic, bic, hqic or fpe");
}

std::string_view InfoCriterionName(InfoCriterion ic) {
  switch (ic) {
    case InfoCriterion::kAic:
      return "aic";
    case InfoCriterion::kBic:
      return "bic";
    case InfoCriterion::kHqic:
      return "hqic";
    case InfoCriterion::kFpe:
      return "fpe";
  }
  return "?";
}

int LagOrderSelection::Selected(InfoCriterion ic) const {
  switch (ic) {
    case InfoCriterion::kAic:
      return aic_order;
    case InfoCriterion::kBic:
      return bic_order;
    case InfoCriterion::kHqic:
      return hqic_order;
    case InfoCriterion::kFpe:
      return fpe_order;
  }
  return aic_order;
}

Result<LagOrderSelection> SelectVarOrder(const MultiInput& data, int max_lags, VarTrend trend) {
  return var::SelectOrder(data, max_lags, trend);
}

const std::vector<MultivariateModelType>& MultivariateModelTypes() {
  static const std::vector<MultivariateModelType> kTypes = {
      {"var", "vector autoregression VAR(p) by OLS, lag selection by AIC/BIC/HQ/FPE (statsmodels conventions)",
       var::VarParams()},
      {"bvar", "Bayesian VAR, Minnesota prior with hyperparameters by marginal likelihood; simulated intervals",
       var::BvarParams()},
      {"arimax", "regression with ARIMA errors on exogenous regressors with known future paths (R Arima(xreg=))",
       arimax::ArimaxParams()},
  };
  return kTypes;
}

namespace {

const MultivariateModelType* FindType(std::string_view name) {
  for (const auto& t : MultivariateModelTypes())
    if (t.name == name) return &t;
  return nullptr;
}

}  // namespace

Status ValidateMultivariateSpec(const ModelSpec& spec) {
  const MultivariateModelType* type = FindType(spec.type);
  std::vector<std::string> names;
  for (const auto& t : MultivariateModelTypes()) names.push_back(t.name);
  if (type == nullptr) {
    std::string msg = "unknown multivariate model type '" + spec.type + "'";
    const std::string hint = DidYouMean(spec.type, names);
    if (!hint.empty()) msg += " (did you mean '" + hint + "'?)";
    return NotFoundError(msg + "; known types: var, bvar, arimax");
  }
  if (spec.params.is_null()) return Status::Ok();
  if (!spec.params.is_object())
    return InvalidArgumentError("parameters of model '" + spec.type + "' must be a mapping");
  std::vector<std::string> known;
  for (const auto& p : type->params) known.push_back(p.name);
  for (auto it = spec.params.begin(); it != spec.params.end(); ++it) {
    const ParamSpec* ps = nullptr;
    for (const auto& p : type->params)
      if (p.name == it.key()) ps = &p;
    if (ps == nullptr) {
      std::string msg = "model '" + spec.type + "' has no parameter '" + it.key() + "'";
      const std::string hint = DidYouMean(it.key(), known);
      if (!hint.empty()) msg += " (did you mean '" + hint + "'?)";
      return InvalidArgumentError(msg);
    }
    if (!it.value().is_null() && !ParamTypeMatches(ps->type, it.value()))
      return InvalidArgumentError("parameter '" + it.key() + "' of model '" + spec.type + "' must be of type " +
                                  ps->type + ", got " + CompactJson(it.value()));
  }
  // Value checks use the same parsers as Fit, so bad values fail here rather than later.
  if (spec.type == "var") return var::CheckVarParams(spec.params);
  if (spec.type == "bvar") return var::CheckBvarParams(spec.params);
  return arimax::CheckArimaxParams(spec.params);
}

Result<std::unique_ptr<MultivariateForecaster>> CreateMultivariate(const ModelSpec& spec) {
  ALMANAC_RETURN_IF_ERROR(ValidateMultivariateSpec(spec));
  if (spec.type == "var") return var::NewVarModel(spec);
  if (spec.type == "bvar") return var::NewBvarModel(spec);
  return arimax::NewArimaxModel(spec);
}

Result<Json> MultivariateEnvelope(const MultivariateForecaster& model) {
  ALMANAC_ASSIGN_OR_RETURN(Json state, model.SaveState());
  Json env = Json::object();
  env["format"] = "almanac-model";
  env["format_version"] = kModelFormatVersion;
  env["spec"] = {{"type", model.spec().type},
                 {"params", model.spec().params.is_null() ? Json::object() : model.spec().params}};
  env["state"] = std::move(state);
  return env;
}

Result<std::string> SerializeMultivariate(const MultivariateForecaster& model) {
  ALMANAC_ASSIGN_OR_RETURN(Json env, MultivariateEnvelope(model));
  return CanonicalJson(env);
}

Result<std::unique_ptr<MultivariateForecaster>> LoadMultivariate(const Json& env) {
  if (!env.is_object() || env.value("format", "") != "almanac-model")
    return InvalidArgumentError("not an almanac model: missing \"format\":\"almanac-model\"");
  if (!env.contains("format_version") || !env["format_version"].is_number_integer())
    return InvalidArgumentError("almanac model has no integer format_version");
  const int v = env["format_version"].get<int>();
  if (v != kModelFormatVersion)
    return FailedPreconditionError("almanac model format version " + std::to_string(v) +
                                   " is not supported by this build (supports " + std::to_string(kModelFormatVersion) +
                                   ")");
  if (!env.contains("spec") || !env["spec"].is_object() || !env["spec"].contains("type") ||
      !env["spec"]["type"].is_string())
    return InvalidArgumentError("almanac model has no spec.type");
  if (!env.contains("state")) return InvalidArgumentError("almanac model has no state");
  ModelSpec spec{env["spec"]["type"].get<std::string>(), env["spec"].value("params", Json::object())};
  ALMANAC_RETURN_IF_ERROR(ValidateMultivariateSpec(spec));
  try {
    if (spec.type == "var") return var::LoadVarModel(spec, env["state"]);
    if (spec.type == "bvar") return var::LoadBvarModel(spec, env["state"]);
    return arimax::LoadArimaxModel(spec, env["state"]);
  } catch (const Json::exception& e) {
    return DataLossError("malformed state for model type '" + spec.type + "': " + e.what());
  }
}

Result<std::unique_ptr<MultivariateForecaster>> DeserializeMultivariate(std::string_view bytes) {
  ALMANAC_ASSIGN_OR_RETURN(Json env, ParseJson(bytes));
  return LoadMultivariate(env);
}

}  // namespace almanac::models
