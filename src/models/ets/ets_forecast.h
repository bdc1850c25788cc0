// Forecast means and prediction intervals of a fitted ETS model, as R forecast's
// forecast.ets() computes them (Hyndman et al. 2008, chapter 6):
//   class 1 -- ETS(A,N|A|Ad,N|A): exact Gaussian intervals, variance
//              sigma2 * (1 + sum_{j<h} c_j^2) with c_j = w' F^{j-1} g;
//   class 2 -- ETS(M,N|A|Ad,N|A): the mean of class 1 and the exact variance of
//              Hyndman et al. (2008, section 6.3) from the theta recursion;
//   class 3 -- ETS(M,N|A|Ad,M): mean and variance from the Kronecker-product recursion
//              (section 6.4; the forecast mean here includes the sigma2 correction, as R);
//   simulated -- everything else (multiplicative trend, or additive error with
//              multiplicative season): the mean is the deterministic point forecast and the
//              bounds are sample quantiles (R's type 8) of `nsim` simulated future paths with
//              Gaussian innovations from a seeded mt19937_64.
// Intervals of classes 1-3 are mean +- z * sqrt(variance).
//
// One deliberate difference from R 8.20: R's class-1 matrices put gamma on the second
// seasonal state when the model has no trend (ETS(A,N,A), ETS(M,N,A)), which misplaces the
// seasonal jump of the variance by one step; here gamma goes on s1 for every form.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "almanac/core/status.h"

#include "models/ets/ets_core.h"
#include "models/random.h"

namespace almanac::models::ets {

enum class IntervalClass { kClass1, kClass2, kClass3, kSimulated };

IntervalClass ClassOf(const Form& form);
const char* IntervalClassName(IntervalClass c);

struct MeanVar {
  std::vector<double> mean;
  std::vector<double> var;
};

// Analytic mean and variance for h = 1..h from the final state x (classes 1-3 only).
MeanVar AnalyticForecast(const Form& form, const Smoothing& par, std::span<const double> x, double sigma2, int h);

// Simulated quantiles: for each level, lower/upper of length h; NaN paths (a multiplicative
// trend that turned negative) are dropped and counted in *dropped.
struct SimBounds {
  std::vector<std::vector<double>> lower, upper;
  int dropped = 0;
};
SimBounds SimulateBounds(const Form& form, const Smoothing& par, std::span<const double> x, double sigma2, int h,
                         std::span<const double> levels, int nsim, std::uint64_t seed);

// Standard normal variates for the simulated intervals: the models' generator (models/random.h)
// on the grid ETS has always used, so the simulated bounds stay the same numbers.
class NormalSource {
 public:
  explicit NormalSource(std::uint64_t seed) : rng_(seed, Rng::Grid::kFloor) {}
  double Next() { return rng_.Normal(); }

 private:
  Rng rng_;
};

// R's quantile(type = 8) of `v` at probability p; `v` is reordered.
double Quantile8(std::vector<double>& v, double p);

}  // namespace almanac::models::ets
