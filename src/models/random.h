// The seeded random numbers of the models (models-internal), in one place: VAR/BVAR bootstrap
// and posterior simulation, ARIMAX forecast samples and ETS simulated intervals draw from Rng;
// the counter-based Philox generator of joint path simulation (var/paths.h) forms its uniforms
// with UniformFromBits below.
// std::mt19937_64's output sequence is fixed by the C++ standard; the transforms below are
// written out because std::normal_distribution and std::uniform_int_distribution differ
// between standard libraries.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

namespace almanac::models {

// Uniform on (0, 1) from the top 53 of 64 random bits (the midpoint of one of 2^53 cells, so
// never exactly 0).
inline double UniformFromBits(std::uint64_t bits) { return (static_cast<double>(bits >> 11) + 0.5) * 0x1.0p-53; }

class Rng {
 public:
  // The 53-bit uniforms behind Normal(): kMidpoint is UniformFromBits (never 0); kFloor is
  // k / 2^53 (may be 0), which ETS' simulated intervals have always used, kept so their numbers
  // do not change.
  enum class Grid { kMidpoint, kFloor };

  explicit Rng(std::uint64_t seed, Grid grid = Grid::kMidpoint) : engine_(seed), grid_(grid) {}

  // Uniform on (0, 1) (kMidpoint) or [0, 1) (kFloor) from the top 53 bits.
  double Uniform() {
    const std::uint64_t bits = engine_();
    return grid_ == Grid::kMidpoint ? UniformFromBits(bits) : static_cast<double>(bits >> 11) * 0x1.0p-53;
  }

  // Uniform integer in [0, n) without modulo bias (rejection on the top bits).
  std::uint64_t Index(std::uint64_t n) {
    const std::uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    std::uint64_t x;
    do {
      x = engine_();
    } while (x >= limit);
    return x % n;
  }

  // Standard normal by the Marsaglia polar method (pairs: the second value of a pair is kept
  // for the next call).
  double Normal() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    double u, v, s;
    do {
      u = 2 * Uniform() - 1;
      v = 2 * Uniform() - 1;
      s = u * u + v * v;
    } while (s >= 1 || s == 0);
    const double f = std::sqrt(-2 * std::log(s) / s);
    spare_ = v * f;
    has_spare_ = true;
    return u * f;
  }

 private:
  std::mt19937_64 engine_;
  Grid grid_;
  double spare_ = 0;
  bool has_spare_ = false;
};

// R's default quantile (type 7: linear interpolation between order statistics) of `v`
// at probability p in [0, 1]. Reorders `v`.
inline double Quantile7(std::vector<double>& v, double p) {
  const double h = (static_cast<double>(v.size()) - 1) * p;
  const size_t lo = static_cast<size_t>(std::floor(h));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(lo), v.end());
  const double a = v[lo];
  if (lo + 1 >= v.size()) return a;
  const double b = *std::min_element(v.begin() + static_cast<std::ptrdiff_t>(lo) + 1, v.end());
  return a + (h - static_cast<double>(lo)) * (b - a);
}

}  // namespace almanac::models
