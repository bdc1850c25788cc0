// The built-in model types: one row per model (CONVENTIONS.md §5), univariate and
// multivariate. Add a new model here.
#include "models/builtin.h"

#include "models/arima/arima.h"
#include "models/arimax/arimax.h"
#include "models/combination/combination.h"
#include "models/ets/ets.h"
#include "models/mstl/mstl.h"
#include "models/naive/naive.h"
#include "models/tbats/tbats.h"
#include "models/theta/theta.h"
#include "models/var/var_model.h"

namespace almanac::models {

void RegisterBuiltinModels(ForecasterRegistry& registry) {
  const ModelType rows[] = {
      // Univariate (Forecaster).
      NaiveModelType(),
      SeasonalNaiveModelType(),
      DriftModelType(),
      MeanModelType(),
      EtsModelType(),
      AutoEtsModelType(),
      ArimaModelType(),
      AutoArimaModelType(),
      ThetaModelType(),
      Naive2ModelType(),
      CombinationModelType(),
      // Issue 25: multiple-seasonal decomposition models.
      MstlModelType(),
      TbatsModelType(),
      // Multivariate and exogenous (MultivariateForecaster).
      var::VarModelType(),
      var::BvarModelType(),
      arimax::ArimaxModelType(),
  };
  for (const auto& row : rows) registry.Register(row).IgnoreError();
}

const ForecasterRegistry& BuiltinModels() {
  static const ForecasterRegistry* const kRegistry = [] {
    auto* registry = new ForecasterRegistry();
    RegisterBuiltinModels(*registry);
    return registry;
  }();
  return *kRegistry;
}

}  // namespace almanac::models
