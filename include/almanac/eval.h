// File: almanac/eval.h
//
// The eval component: forecast accuracy metrics (and, later, rolling-origin backtests built on
// them). Depends on core and models.
//
//   // y_test: the realised values; fc: a models::Forecast for the same horizon.
//   ALMANAC_ASSIGN_OR_RETURN(double s, eval::Smape(y_test, fc.mean));
//   ALMANAC_ASSIGN_OR_RETURN(double q, eval::Mase(y_test, fc.mean, y_train, /*period=*/12));
//   ALMANAC_ASSIGN_OR_RETURN(eval::Accuracy a, eval::Evaluate(y_test, fc, y_train, 12));
//
// Conventions shared by every metric:
// - `actual` and the forecast arrays have the same length (InvalidArgument otherwise), one
//   entry per horizon step.
// - Missing values: a position where the actual or any forecast value used by the metric is
//   NaN is skipped (the pair is ignored, not counted). When no position is left the metric is
//   undefined and the function returns InvalidArgument ("no pairs without missing values").
// - Percentage metrics (MAPE, sMAPE) are in percent (0..100, sMAPE up to 200); coverage is a
//   fraction in [0, 1].
// All functions are pure and thread-safe.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "almanac/core.h"
#include "almanac/models.h"

namespace almanac::eval {

// Mean absolute error: mean |y - f|.
Result<double> Mae(std::span<const double> actual, std::span<const double> forecast);

// Root mean squared error: sqrt(mean (y - f)^2).
Result<double> Rmse(std::span<const double> actual, std::span<const double> forecast);

// Mean absolute percentage error: 100 * mean |y - f| / |y|. InvalidArgument when an actual is
// 0 (the metric is undefined there), naming the position.
Result<double> Mape(std::span<const double> actual, std::span<const double> forecast);

// Symmetric MAPE as defined for the M3 competition: mean 200 |y - f| / (|y| + |f|), in [0, 200].
// A pair with y = f = 0 contributes 0.
Result<double> Smape(std::span<const double> actual, std::span<const double> forecast);

// The MASE scale: the in-sample mean absolute error of the seasonal naive method,
// mean_{t > m} |y_t - y_{t-m}| with m = max(1, period) (Hyndman & Koehler 2006; the M4
// definition). Pairs with a NaN are skipped. InvalidArgument when there is no pair (fewer than
// m + 1 observations) or the scale is 0 (a series constant at lag m), since MASE is then
// undefined.
Result<double> MaseScale(std::span<const double> insample, int period);

// Mean absolute scaled error: Mae(actual, forecast) / MaseScale(insample, period).
Result<double> Mase(std::span<const double> actual, std::span<const double> forecast, std::span<const double> insample,
                    int period);

// Interval coverage: the fraction of positions with lower <= y <= upper.
Result<double> Coverage(std::span<const double> actual, std::span<const double> lower, std::span<const double> upper);

// The interval (Winkler) score of central (level)% intervals, averaged over positions
// (Gneiting & Raftery 2007, eq. 43): (u - l) + (2/a)(l - y)[y < l] + (2/a)(y - u)[y > u] with
// a = 1 - level/100. Lower is better. InvalidArgument for a level outside (0, 100) or a
// position with lower > upper.
Result<double> IntervalScore(std::span<const double> actual, std::span<const double> lower,
                             std::span<const double> upper, double level);

// All metrics of one forecast against the realised values. Metrics that are undefined for this
// input (MAPE with a zero actual, MASE without in-sample data or with a zero scale) are NaN
// with the reason in `notes`; the counts let callers pool over series (e.g. the M3 paper's
// sMAPE over all points = sum(smape * n) / sum(n)).
struct IntervalAccuracy {
  double level = 0;
  double coverage = 0;  // fraction in [0, 1]
  double score = 0;     // mean interval score
  int n = 0;            // positions used
};
struct Accuracy {
  int n = 0;  // positions used by the point metrics (actual and mean both present)
  double mae = 0;
  double rmse = 0;
  double mape = 0;
  double smape = 0;
  double mase = 0;
  double mase_scale = 0;
  std::vector<IntervalAccuracy> intervals;  // one per interval of the forecast, same order
  std::vector<std::string> notes;
};

// Scores `forecast` (mean and intervals, truncated to actual.size() steps) against `actual`.
// `insample` (the data the model was fitted on) and `period` give the MASE scale; pass an
// empty span to skip MASE. InvalidArgument when the forecast is shorter than `actual` or no
// position has both an actual and a forecast.
Result<Accuracy> Evaluate(std::span<const double> actual, const models::Forecast& forecast,
                          std::span<const double> insample, int period);

}  // namespace almanac::eval
