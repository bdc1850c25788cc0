// Benchmark methods: naive, seasonal naive, drift (random walk with drift) and mean, with the
// point forecasts and intervals of R forecast's naive(), snaive(), rwf(drift=TRUE), meanf().
#pragma once

#include "almanac/models.h"

namespace almanac::models {

ModelType NaiveModelType();
ModelType SeasonalNaiveModelType();
ModelType DriftModelType();
ModelType MeanModelType();

}  // namespace almanac::models
