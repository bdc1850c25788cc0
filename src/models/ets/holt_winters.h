// The non-state-space Holt-Winters fit R's ets() falls back to for very short series
// (n <= number of parameters + 4), and the simple exponential smoothing it uses for constant
// series (R forecast's HoltWintersZZ: initial values from the first observations, smoothing
// parameters in [0, 1] chosen by least squares). The result is reported as the ETS form
// R assigns it, and forecast with the ETS formulas, using the Holt-Winters parameters in
// place of the state-space ones as R does.
#pragma once

#include <span>
#include <vector>

#include "almanac/core/status.h"

#include "models/ets/ets_core.h"

namespace almanac::models::ets {

struct HoltWintersSpec {
  bool trend = false;
  bool exponential = false;                                 // multiplicative trend
  Comp season = Comp::kN;                                   // kN, kA or kM
  double alpha = std::numeric_limits<double>::quiet_NaN();  // NaN = estimate
  double beta = std::numeric_limits<double>::quiet_NaN();
  double gamma = std::numeric_limits<double>::quiet_NaN();
  double phi = 1.0;
};

struct HoltWintersFit {
  Form form;  // the ETS form R reports for it
  Smoothing par;
  std::vector<double> x0, last_state;
  std::vector<double> fitted;  // one-step fits
  double sigma2 = 0;
  double sse = 0;
};

// `m` is the data's period (R uses it for the starting alpha even without a season).
// InvalidArgument when the data cannot support the requested components (e.g. fewer than
// 2m observations for a seasonal start) or the fit fails.
Result<HoltWintersFit> FitHoltWinters(std::span<const double> y, int m, const HoltWintersSpec& spec);

}  // namespace almanac::models::ets
