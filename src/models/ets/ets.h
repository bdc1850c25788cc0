// Exponential smoothing state-space models (ETS) as R forecast 8.20's ets(): every
// error (A, M) x trend (N, A, Ad, M, Md) x season (N, A, M) form, fitted by maximum
// likelihood, with automatic selection by AICc. Registry rows: "ets" (model "ZZZ" by
// default, any letter may be fixed) and "auto_ets" (the same with every component chosen).
#pragma once

#include "almanac/models.h"

namespace almanac::models {

ModelType EtsModelType();
ModelType AutoEtsModelType();

}  // namespace almanac::models
