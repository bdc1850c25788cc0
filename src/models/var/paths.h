// Joint path simulation for the VAR family (internal): a counter-based generator (Philox4x32-10)
// and the simulator behind MultivariateForecaster::SimulatePaths.
//
// Random numbers: Philox4x32-10 of Salmon, Moraes, Dror & Shaw, "Parallel random numbers: as
// easy as 1, 2, 3" (SC 2011), as in their Random123 library (checked against its known-answer
// vectors in paths_test.cc). A draw is the 128-bit block Philox(counter, key) with
//   key     = (seed low 32 bits, seed high 32 bits)
//   counter = (path low 32 bits, path high 32 bits, step or index, stream << 28 | j)
// so every number is a pure function of (seed, path, step, stream, j): no generator state is
// carried between paths, and the result cannot depend on the thread count or scheduling.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <vector>

#include <Eigen/Dense>

#include "almanac/models.h"

namespace almanac::models::var {

// One Philox4x32-10 block (10 rounds, Random123's multipliers and Weyl key increments).
std::array<std::uint32_t, 4> Philox4x32(std::array<std::uint32_t, 4> counter, std::array<std::uint32_t, 2> key);

// What a block of random numbers is for (the top 4 bits of counter word 3).
enum class PathStream : std::uint32_t { kShock = 0, kChiSquare = 1, kBootstrap = 2, kCoefficients = 3 };

// The random numbers of one path.
class PathRandom {
 public:
  PathRandom(std::uint64_t seed, std::uint64_t path)
      : key_{static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32)},
        path_lo_(static_cast<std::uint32_t>(path)),
        path_hi_(static_cast<std::uint32_t>(path >> 32)) {}

  // 64 random bits: 64-bit word j % 2 of block (stream, index, j / 2).
  std::uint64_t Bits(PathStream stream, std::uint32_t index, std::uint32_t j) const;
  // Uniform on (0, 1) from the top 53 bits of Bits (never 0 or 1).
  double Uniform(PathStream stream, std::uint32_t index, std::uint32_t j) const;
  // n standard normals for entries 0..n-1 at `index`: entries 2m and 2m + 1 are the Box-Muller
  // pair (cos, sin) of block (stream, index, m). Entry j depends only on (seed, path, stream,
  // index, j).
  void Normals(PathStream stream, std::uint32_t index, int n, double* out) const;
  // A chi-square(nu) variate for `index` (Marsaglia & Tsang 2000 for Gamma(nu/2), nu > 2, times
  // 2; attempt a uses blocks 2a and 2a + 1 of the chi-square stream).
  double ChiSquare(double nu, std::uint32_t index) const;
  // Uniform integer in [0, n), n >= 1, by rejection (no modulo bias).
  std::uint64_t Index(std::uint64_t n, std::uint32_t index) const;

 private:
  std::array<std::uint32_t, 4> Block(PathStream stream, std::uint32_t index, std::uint32_t j) const;

  std::array<std::uint32_t, 2> key_;
  std::uint32_t path_lo_, path_hi_;
};

// What the simulator needs from a fitted VAR-family model.
struct PathModel {
  std::vector<std::string> names;
  std::optional<Period> first_period;
  const Eigen::MatrixXd* y = nullptr;  // T x K data (the last p rows start every path)
  Eigen::MatrixXd b;                   // m x K coefficients (statsmodels layout, see var_core.h)
  int p = 1;
  VarTrend trend = VarTrend::kConstant;
  Eigen::MatrixXd sigma;  // K x K shock covariance
  Eigen::MatrixXd resid;  // n x K centred residuals (bootstrap)
  // Posterior draw of the coefficients from m * K standard normals (empty: no posterior).
  std::function<void(const double* z, Eigen::MatrixXd* b)> draw_coefficients;
  std::string model_label;  // e.g. "VAR(2)"
};

// Simulates the request (see MultivariateForecaster::SimulatePaths for the contract).
Result<SimulatedPaths> SimulateVarPaths(const PathModel& model, const PathSimulationRequest& request);

// Centred one-step residuals y_t - fitted_t, t = p..T-1, of coefficients `b`.
Eigen::MatrixXd CentredResiduals(const Eigen::MatrixXd& y, const Eigen::MatrixXd& b, int p, VarTrend trend);

}  // namespace almanac::models::var
