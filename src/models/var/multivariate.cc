// The public multivariate API: data alignment, enums, and the free functions over the built-in
// multivariate rows of the model-type table (registry.cc holds validation and the envelope).
#include <algorithm>
#include <cmath>

#include "almanac/models.h"

#include "models/builtin.h"
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
  static const std::vector<MultivariateModelType> kTypes = [] {
    std::vector<MultivariateModelType> out;
    for (const auto& t : BuiltinModels().types())
      if (t.kind != ModelKind::kUnivariate) out.push_back(t);
    return out;
  }();
  return kTypes;
}

Status ValidateMultivariateSpec(const ModelSpec& spec) { return BuiltinModels().ValidateMultivariate(spec); }

Result<std::unique_ptr<MultivariateForecaster>> CreateMultivariate(const ModelSpec& spec) {
  return BuiltinModels().CreateMultivariate(spec);
}

Result<std::unique_ptr<MultivariateForecaster>> LoadMultivariate(const Json& env) {
  return BuiltinModels().LoadMultivariate(env);
}

Result<std::unique_ptr<MultivariateForecaster>> DeserializeMultivariate(std::string_view bytes) {
  ALMANAC_ASSIGN_OR_RETURN(Json env, ParseJson(bytes));
  return LoadMultivariate(env);
}

}  // namespace almanac::models
