// Interval calibration on rolling-origin errors: a decorator that any model type accepts
// through the registry's common parameter `calibrate` (models-internal).
//
// Why: the analytic intervals of ETS and ARIMA (and R's) assume the selected model is the
// true one with known parameters, so they are too narrow out of sample: on the M3 MACRO
// series R's 95% intervals hold only ~85% of the outcomes. This wrapper measures how wrong
// the model's own interval widths were on the training data and widens (or narrows) them
// by that much.
//
// Fit(y): fits the inner model (the same spec without `calibrate`) on all of y; its point
// forecasts, fitted values, parameters and information criteria are returned unchanged.
// Then, for each origin t = n-1, n-2, ..., n-origins (never below n/2 observations), it fits
// a fresh copy of the inner model on y[0..t) (model selection included, so selection
// uncertainty counts too), forecasts min(horizon, n-t) steps with an 80% interval, and
// turns each error into a standardised error z = |y - mean| / s, where s is the half-width
// of the 80% interval on the error's side divided by z_0.80 = 1.2816 (the model's own
// forecast standard deviation at that step; asymmetric intervals keep their asymmetry).
// The sorted |z| are kept in the state. An origin whose fit or forecast fails is skipped.
//
// Predict(h, levels): the inner forecast, with each level's bounds moved away from the
// point forecast by a factor c(level, h):
//   method "variance" (default)  variance inflation growing with the step: c(h)^2 = a + b(h-1),
//                                a line fitted to the z^2 by least squares (b >= 0; with a
//                                negative slope or intercept, the pooled mean of z^2), the same
//                                for every level; beyond the calibration horizon the factor of
//                                its last step.
//   method "quantile"            c = Q_level(|z|) / z_level, the empirical quantile of the pooled
//                                standardised errors over the normal one, the same for every
//                                step. When the sample is too small for the level
//                                (level > 1 - 1/N) the ratio at level 1 - 1/N is used.
// c is clamped to [min_factor, max_factor] (defaults 1 and 10: by default intervals are
// only ever widened, since a handful of lucky origins should not shrink them).
// Fallback: with fewer than min_errors usable errors the model's own intervals are kept
// and a note says so. Deterministic (no random numbers); costs `origins` extra fits.
// On the M3 MACRO series (bench/m3, docs/benchmarks.md) the default raises the 95% coverage
// of auto_ets from 0.856 to ~0.93 and lowers the interval score; "quantile" and
// min_factor < 1 did worse there.
//
// Parameter `calibrate`: null or false (off), true (defaults), or a mapping with
//   origins     number of forecast origins (default: horizon)
//   horizon     steps forecast from each origin (default 6 for period 1, else
//               min(max(2·period, 6), 18): 8 quarterly, 18 monthly, as in M3)
//   method      "variance" (default) or "quantile"
//   min_errors  fewest standardised errors needed (default 10)
//   min_factor, max_factor  bounds of c (defaults 1, 10)
// IMPORTANT: like a combination, the model keeps a pointer to the registry it was created
// or loaded from (it creates the origin models at Fit time); the registry must outlive it.
#pragma once

#include <memory>

#include "almanac/models.h"

namespace almanac::models {

// True when params has a `calibrate` that is neither null nor false.
bool CalibrationRequested(const Json& params);

// Creates (Load: rebuilds) the wrapper around registry.Create(spec without `calibrate`).
Result<std::unique_ptr<Forecaster>> CreateCalibrated(const ModelSpec& spec, const ForecasterRegistry& registry);
Result<std::unique_ptr<Forecaster>> LoadCalibrated(const ModelSpec& spec, const Json& state,
                                                   const ForecasterRegistry& registry);

}  // namespace almanac::models
