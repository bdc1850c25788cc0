// Differencing tests used by auto_arima, as R forecast 8.20's ndiffs() and nsdiffs() with
// their defaults (shared statistical helpers kept under models/arima/ for now; they depend
// only on the standard library and stl.h, so they can move to a common place unchanged).
//
//  * KPSS level-stationarity test (Kwiatkowski, Phillips, Schmidt & Shin 1992), statistic as
//    urca::ur.kpss(type = "mu") with Bartlett-weighted long-run variance; forecast's ndiffs()
//    uses use.lag = trunc(3 * sqrt(n) / 13) (not urca's "short" 4 (n/100)^0.25), and the
//    p-value is the linear interpolation of the KPSS table (0.347, 0.463, 0.574, 0.739 for
//    10%, 5%, 2.5%, 1%) clamped to [0.01, 0.10].
//  * Seasonal strength (Wang, Smith & Hyndman 2006) from an STL decomposition with
//    s.window = 11 as forecast's seas.heuristic()/mstl(): max(0, 1 - var(R) / var(R + S));
//    nsdiffs() differences seasonally while it exceeds 0.64.
#pragma once

#include <span>
#include <vector>

namespace almanac::models::arima {

// forecast's is.constant(): all.equal(x, rep(x[1], n)) with tolerance 1.5e-8 (mean relative
// difference over the differing entries; NaN positions must agree).
bool IsConstant(std::span<const double> x);

// The KPSS level statistic of x (no missing values) with `lags` Bartlett lags.
double KpssStatistic(std::span<const double> x, int lags);
// Interpolated p-value of a KPSS level statistic.
double KpssPValue(double stat);

// Number of first differences (0..max_d) for KPSS level stationarity at level alpha.
// Missing values are dropped first, as R does.
int NDiffs(std::span<const double> x, double alpha = 0.05, int max_d = 2);

// Seasonal strength in [0, 1] from STL; NaN when it cannot be computed (fewer than two full
// periods). Missing values are filled by linear interpolation first (R uses na.interp(),
// a seasonal interpolation; see the README for the difference).
double SeasonalStrength(std::span<const double> x, int m);

// Number of seasonal differences (0..max_D) by the seasonal-strength heuristic.
int NSDiffs(std::span<const double> x, int m, int max_D = 1);

}  // namespace almanac::models::arima
