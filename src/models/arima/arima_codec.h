// The one serialized form of a fitted ARIMA state (models-internal), shared by arima,
// auto_arima and arimax, so that the two cannot drift apart again (ARIMAX used to drop
// sigma2_css and convergence).
//
// The fields are written into the model's state object beside the model's own fields (arima:
// fitted, notes; arimax: names, target, start, ...), with the same keys as before issue 26.
// Numbers that are not finite cannot appear in canonical JSON: NaN is written as null and
// infinities as the strings "Infinity" / "-Infinity".
#pragma once

#include <string_view>
#include <vector>

#include "almanac/core/json.h"

#include "models/arima/arima_fit.h"

namespace almanac::models::arima {

// A double as JSON (null for NaN, "Infinity"/"-Infinity") and back (null is NaN; any other
// string throws Json::type_error, as a wrong type does).
Json EncodeNumber(double v);
double DecodeNumber(const Json& j);
Json EncodeNumbers(const std::vector<double>& v);
std::vector<double> DecodeNumbers(const Json& j);

// Writes the fitted state into `state` (an object). `num_xreg` is written only for fits with
// regressors, so arima states keep the bytes they always had.
void EncodeArimaFit(const ArimaFit& fit, Json& state);

// Reads what EncodeArimaFit wrote. Fields older packages lack are optional: sigma2_css (NaN when
// absent: ARIMAX packages before issue 26 did not store it; nothing after a load uses it),
// convergence (0) and num_xreg (0). DataLoss naming `model` (e.g. "arima") for orders or sizes
// that do not fit together; a missing key or a value of the wrong type throws Json::exception,
// which the registry reports as DataLoss.
Result<ArimaFit> DecodeArimaFit(const Json& state, std::string_view model);

}  // namespace almanac::models::arima
