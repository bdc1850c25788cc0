// MSTL: seasonal-trend decomposition with several seasonal periods (Bandara, Hyndman &
// Bergmeir 2021, "MSTL: A Seasonal-Trend Decomposition Algorithm for Time Series with Multiple
// Seasonal Patterns"), as R forecast 8.20's mstl(): the periods in increasing order, each
// seasonal component re-estimated `iterate` times by STL (models/arima/stl.h) on the series
// minus the other seasonal components; the trend is the last STL fit's trend.
//
// The forecaster `mstl` (MstlModelType) forecasts as R's forecast.mstl()/stlf(): the seasonal
// naive of each seasonal component (its last cycle repeated) plus a model of the seasonally
// adjusted series (ETS "ZZN" by default; non-seasonal auto ARIMA, naive or drift). Intervals
// are the adjusted-series model's, shifted by the seasonal part (the seasonal components are
// treated as known, as R does). A Box-Cox `lambda` is the registry's generic wrapper, which
// is what R's mstl(lambda =) + forecast(lambda =) compute.
#pragma once

#include <limits>
#include <span>
#include <string>
#include <vector>

#include "almanac/core/status.h"
#include "almanac/models.h"

namespace almanac::models::mstl {

struct MstlOptions {
  // STL passes over all periods (R: 2; R uses 1 for a plain `ts` with one period).
  int iterate = 2;
  // Seasonal loess windows per period (odd, >= 7); empty: R's 7 + 4 * i (11, 15, 19, ...).
  std::vector<int> s_windows;
  // Box-Cox parameter applied before decomposing (NaN: none); needs positive data unless 1.
  double lambda = std::numeric_limits<double>::quiet_NaN();
};

struct MstlResult {
  std::vector<int> periods;                   // used, increasing
  std::vector<std::vector<double>> seasonal;  // one per period, length n
  std::vector<double> trend, remainder;       // length n
  std::vector<double> adjusted;               // the (transformed) series minus every seasonal
  std::vector<std::string> notes;             // dropped periods and the like
};

// Decomposes y (no missing values). Periods < 2 are InvalidArgument; periods with fewer than
// two full cycles in y (period >= n / 2) are dropped with a note, as R. InvalidArgument when no
// period is left, for a NaN or infinite value, a bad window, or a non-positive value with a
// Box-Cox lambda.
Result<MstlResult> Mstl(std::span<const double> y, std::vector<int> periods, const MstlOptions& options = {});

}  // namespace almanac::models::mstl

namespace almanac::models {
ModelType MstlModelType();
}  // namespace almanac::models
