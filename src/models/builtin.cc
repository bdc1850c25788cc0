// The built-in model types: one row per model (CONVENTIONS.md §5). Add a new model here.
#include "almanac/models.h"
#include "models/arima/arima.h"
#include "models/naive/naive.h"

namespace almanac::models {

void RegisterBuiltinModels(ForecasterRegistry& registry) {
  const ModelType rows[] = {
      NaiveModelType(),
      SeasonalNaiveModelType(),
      DriftModelType(),
      MeanModelType(),
      ArimaModelType(),
      AutoArimaModelType(),
  };
  for (const auto& row : rows) registry.Register(row).IgnoreError();
}

}  // namespace almanac::models
