// ARIMA/SARIMA forecasters (models-internal): the registry rows for
//   arima       fixed orders, as R forecast's Arima()
//   auto_arima  automatic order selection, as R forecast's auto.arima()
// See arima_fit.h and auto_arima.h for the estimation details and what differs from R.
#pragma once

#include "almanac/models.h"

namespace almanac::models {

ModelType ArimaModelType();
ModelType AutoArimaModelType();

}  // namespace almanac::models
