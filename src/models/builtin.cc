// The built-in model types: one row per model (CONVENTIONS.md §5). Add a new model here.
#include "almanac/models.h"
#include "models/arima/arima.h"
#include "models/combination/combination.h"
#include "models/ets/ets.h"
#include "models/naive/naive.h"
#include "models/theta/theta.h"

namespace almanac::models {

void RegisterBuiltinModels(ForecasterRegistry& registry) {
  const ModelType rows[] = {
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
  };
  for (const auto& row : rows) registry.Register(row).IgnoreError();
}

}  // namespace almanac::models
