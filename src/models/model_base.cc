#include "models/model_base.h"

namespace almanac::models {

Status NotFittedError() { return FailedPreconditionError("model is not fitted"); }

Result<Forecast> ForecasterBase::Predict(int horizon, std::span<const double> levels) const {
  ALMANAC_RETURN_IF_ERROR(RequireFitted());
  ALMANAC_RETURN_IF_ERROR(ValidatePredictArgs(horizon, levels));
  return PredictFitted(horizon, levels);
}

Result<Json> ForecasterBase::SaveState() const {
  ALMANAC_RETURN_IF_ERROR(RequireFitted());
  return SaveFitted();
}

Result<MultiForecast> MultivariateBase::Predict(const MultiPredictRequest& request) const {
  ALMANAC_RETURN_IF_ERROR(RequireFitted());
  ALMANAC_RETURN_IF_ERROR(ValidatePredictArgs(request.horizon, request.levels));
  return PredictFitted(request);
}

Result<MultiDescription> MultivariateBase::Describe() const {
  ALMANAC_RETURN_IF_ERROR(RequireFitted());
  return DescribeFitted();
}

Result<Json> MultivariateBase::SaveState() const {
  ALMANAC_RETURN_IF_ERROR(RequireFitted());
  return SaveFitted();
}

ModelType MultivariateRow(std::string name, std::string description, ModelKind kind, std::vector<ParamSpec> params,
                          std::unique_ptr<MultivariateForecaster> (*create)(const ModelSpec&),
                          Result<std::unique_ptr<MultivariateForecaster>> (*load)(const ModelSpec&, const Json&),
                          Status (*check_params)(const Json&)) {
  ModelType t;
  t.name = std::move(name);
  t.description = std::move(description);
  t.params = std::move(params);
  t.kind = kind;
  t.create_multivariate = [create](const ModelSpec& spec) -> Result<std::unique_ptr<MultivariateForecaster>> {
    return create(spec);
  };
  t.load_multivariate = load;
  t.check_params = check_params;
  return t;
}

}  // namespace almanac::models
