// Classical decomposition, the sample autocorrelation function and the seasonality test of
// the M3/M4 benchmarks and R forecast's thetaf() (models-internal).
//
// These are the building blocks of `theta` and `naive2`: test the series for seasonality at
// lag m, and when it is seasonal divide it by multiplicative seasonal indices from a classical
// decomposition, forecast the adjusted series, and multiply the forecasts back.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "almanac/core/status.h"

namespace almanac::models {

enum class DecomposeType { kAdditive, kMultiplicative };

// R's decompose(): the trend is the centred moving average of order m (weights
// (0.5, 1, ..., 1, 0.5)/m for even m, 1/m for odd m), NaN for the first and last m/2 points;
// the detrended series (y - trend or y / trend) is averaged per position in the cycle,
// counted from the first observation, and the m averages are normalised to sum to 0
// (additive) or to average 1 (multiplicative).
struct Decomposition {
  std::vector<double> trend;     // length n, NaN at both ends
  std::vector<double> figure;    // the m seasonal indices; figure[i] belongs to t % m == i
  std::vector<double> seasonal;  // length n: figure repeated
};

// InvalidArgument for period < 2, fewer than 2 * period non-missing values, or a position in
// the cycle without any detrended value. Missing values (NaN) propagate through the moving
// average as in R.
Result<Decomposition> ClassicalDecompose(std::span<const double> y, int period, DecomposeType type);

// Sample autocorrelations r_1..r_max_lag as R's acf(): mean-corrected, each lag's sum of
// products divided by the lag-0 sum of squares. The series must have no NaN; lags beyond
// n - 1 are 0. Returns max_lag values (r[0] is lag 1). All zero for a constant series.
std::vector<double> Autocorrelations(std::span<const double> y, int max_lag);

// R forecast's is.constant(): all.equal(y, rep(y[1], n)) with tolerance 1.5e-8 (mean relative
// difference). NaN values are ignored.
bool IsConstant(std::span<const double> y);

// The 90% one-sided autocorrelation test at the seasonal lag m used by the M3 NAIVE2
// benchmark, the M4 benchmarks and thetaf():
//   seasonal  <=>  |r_m| > z_{0.95} * sqrt((1 + 2 * sum_{k=1}^{m-1} r_k^2) / n)
// with z_{0.95} = 1.6448536... (R: qnorm(0.95)). Not seasonal when m < 2, the series is
// constant or n < min_length. thetaf() (forecast 8.20) uses min_length = 2m + 1 ("n > 2m");
// the M4 benchmark code uses 3m.
struct SeasonalityTest {
  bool seasonal = false;
  double acf_m = 0;      // r_m
  double threshold = 0;  // the right-hand side above
  std::string reason;    // why the test was skipped ("" when it ran)
};
SeasonalityTest TestSeasonality(std::span<const double> y, int period, int min_length);

// Missing values for the decomposition-based models: leading NaN are dropped, interior
// NaN are filled by linear interpolation between the neighbouring observations, and a series
// that ends with NaN is rejected (the forecast origin would be undefined). `notes` gets a line
// when anything was dropped or filled. InvalidArgument when nothing is left or the series
// ends with a missing value.
Result<std::vector<double>> FillMissing(std::span<const double> y, std::string_view model,
                                        std::vector<std::string>* notes);

// The seasonal adjustment shared by `theta` and `naive2`: runs the test, and when it says
// seasonal computes the multiplicative indices. Falls back to no adjustment (recording why in
// `notes`) when the series has a non-positive value or an index is near zero (|s| < 1e-4, as
// thetaf). `mode` is "auto" (test), "multiplicative" (always, when n >= 2m) or "none".
struct SeasonalAdjustment {
  bool seasonal = false;
  int period = 1;
  std::vector<double> figure;    // m indices (empty when not seasonal), figure[t % m]
  std::vector<double> adjusted;  // y / index (or y when not seasonal)
  SeasonalityTest test;

  // The index for observation t (0-based; t >= n gives forecast steps), 1 when not seasonal.
  double Index(long t) const { return seasonal ? figure[static_cast<size_t>(t % period)] : 1.0; }
};
Result<SeasonalAdjustment> AdjustSeasonality(std::span<const double> y, int period, std::string_view mode,
                                             int min_length, std::vector<std::string>* notes);

}  // namespace almanac::models
