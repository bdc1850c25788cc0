// Regression with ARIMA errors (ARIMAX), as R forecast's Arima(y, xreg = X) and
// forecast(fit, xreg = future), exposed as the multivariate model type "arimax": the target is
// one variable of the input and every other variable is a regressor, whose future path must be
// given as a condition when forecasting (models-internal).
#pragma once

#include <memory>
#include <vector>

#include "almanac/models.h"

namespace almanac::models::arimax {

std::unique_ptr<MultivariateForecaster> NewArimaxModel(const ModelSpec& spec);
Result<std::unique_ptr<MultivariateForecaster>> LoadArimaxModel(const ModelSpec& spec, const Json& state);
std::vector<ParamSpec> ArimaxParams();
Status CheckArimaxParams(const Json& params);
// The row of the model-type table (ModelKind::kExogenous; listed in src/models/builtin.cc).
ModelType ArimaxModelType();

}  // namespace almanac::models::arimax
