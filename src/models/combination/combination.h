// `combination`: the equal-weight mean of several component models (models-internal).
//
// The components are created through the registry the combination was created from, so any
// registered type can take part (the default is auto_ets + auto_arima + theta, the
// "SHD-style" combination that did well in M3/M4). Each is fitted on the same input; a
// component that fails to fit is dropped and the failure is recorded in the notes (an error
// only when none fits).
//
// Point forecast: the mean of the components' point forecasts.
// Intervals (parameter `intervals`):
//   "mean"      (default) the bounds at each level are the means of the components' bounds, as
//               the point forecast is (the forecastHybrid-style average; equals the interval of
//               the averaged forecast when the components agree on its width);
//   "envelope"  the lowest lower and highest upper bound over the components (conservative).
// The serialized state nests each component's own envelope, so a loaded combination needs
// the same model types to be registered.
// IMPORTANT: a combination keeps a pointer to the registry it was created or loaded from (to
// create its components at Fit time); the registry must outlive it.
#pragma once

#include "almanac/models.h"

namespace almanac::models {

ModelType CombinationModelType();

}  // namespace almanac::models
