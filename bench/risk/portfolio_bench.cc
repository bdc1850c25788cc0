// Issue 24: the portfolio side of the figures asked for. One run, timed with a steady clock:
//   1. 100,000 paths x 8 quarters x 10 variables from a VAR(2) (MultivariateForecaster::SimulatePaths);
//   2. VaR/ES (Monte Carlo, normal, t at 95 % and 99 %, every horizon) and Euler contributions by
//      position and by factor for 1,000 positions on 100 assets over those paths, with the
//      factor coefficients drawn per path and residuals (SimulatePortfolioRisk).
// Targets: each under 1 s on 2 cores; peak memory under 1 GiB. Prints wall and process CPU time
// (std::clock, summed over threads; on a shared machine the wall time includes waiting):
//   /usr/bin/time -v ./build/ci/bench/portfolio_bench [paths] [positions] [assets] [threads] [rounds]
// The VAR(2) is fitted on a synthetic stationary 10-variable system (an LCG), and the factor
// models are made up (3 factors per asset), so the program needs no data files.
#include <chrono>
#include <ctime>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "almanac/models.h"
#include "almanac/risk.h"

using namespace almanac;

namespace {

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

}  // namespace

int main(int argc, char** argv) {
  const int num_paths = argc > 1 ? std::atoi(argv[1]) : 100000;
  const int num_positions = argc > 2 ? std::atoi(argv[2]) : 1000;
  const int num_assets = argc > 3 ? std::atoi(argv[3]) : 100;
  const int threads = argc > 4 ? std::atoi(argv[4]) : 2;
  const int rounds = argc > 5 ? std::atoi(argv[5]) : 1;  // repeats of the risk phase (same inputs)
  const int k = 10, n = 200;
  models::MultiInput d;
  for (int i = 0; i < k; ++i) d.names.push_back("x" + std::to_string(i));
  d.values.assign(k, std::vector<double>(n));
  std::uint64_t s = 12345;
  auto uni = [&] {
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<double>(s >> 11) * 0x1.0p-53 - 0.5;
  };
  std::vector<double> y1(k, 0.0), y2(k, 0.0), y(k);
  for (int t = 0; t < n; ++t) {
    for (int i = 0; i < k; ++i) y[i] = 0.1 + 0.5 * y1[i] - 0.1 * y2[i] + 0.1 * y1[(i + 1) % k] + uni();
    for (int i = 0; i < k; ++i) {
      d.values[i][t] = y[i];
      y2[i] = y1[i];
      y1[i] = y[i];
    }
  }
  d.start = Period::Parse("1970Q1").value();
  auto model = models::CreateMultivariate({"var", Json{{"lags", 2}}}).value();
  if (!model->Fit(d).ok()) return 1;

  auto t0 = std::chrono::steady_clock::now();
  std::clock_t c0 = std::clock();
  auto paths = model->SimulatePaths({.num_paths = num_paths, .horizon = 8, .seed = 7, .threads = threads});
  const double sim_s = Seconds(t0);
  const double sim_cpu = static_cast<double>(std::clock() - c0) / CLOCKS_PER_SEC;
  if (!paths.ok()) {
    std::fprintf(stderr, "%s\n", paths.status().ToString().c_str());
    return 1;
  }

  risk::PortfolioFactorModel fm;
  fm.factors = {{"x0", false}, {"x3", false}, {"x7", false}};
  for (int a = 0; a < num_assets; ++a) {
    risk::FactorFit f;
    f.coefficients = {0.001 * (a % 7), 0.01 * ((a % 5) - 2), -0.02 + 0.001 * a, 0.015};
    f.covariance.assign(16, 0.0);
    for (int j = 0; j < 4; ++j) f.covariance[j * 4 + j] = 1e-6 * (1 + j);
    f.covariance[1] = f.covariance[4] = 2e-7;
    f.residual_sd = 0.01 + 0.0001 * a;
    fm.assets.push_back("asset" + std::to_string(a));
    fm.fits.push_back(f);
  }
  std::vector<risk::Position> positions;
  for (int j = 0; j < num_positions; ++j)
    positions.push_back({"p" + std::to_string(j), "asset" + std::to_string(j % num_assets), 1e6 * (1 + j % 13) * (j % 9 == 0 ? -1 : 1),
                         "", j + 2});
  std::printf("paths %d x 8 x %d variables (VAR(2)), %d threads: simulate %.3f s wall, %.3f s CPU (all threads)\n", num_paths, k,
              threads, sim_s, sim_cpu);
  for (int round = 1; round <= rounds; ++round) {
    t0 = std::chrono::steady_clock::now();
    c0 = std::clock();
    auto r = risk::SimulatePortfolioRisk(positions, {}, fm, *paths,
                                         {.levels = {0.95, 0.99}, .seed = 11, .threads = threads});
    const double risk_s = Seconds(t0);
    const double risk_cpu = static_cast<double>(std::clock() - c0) / CLOCKS_PER_SEC;
    if (!r.ok()) {
      std::fprintf(stderr, "%s\n", r.status().ToString().c_str());
      return 1;
    }
    const auto& last = r->horizons.back();
    std::printf("round %d: %d positions on %d assets, 3 factors, 8 horizons x 2 levels x 3 methods + contributions: "
                "%.3f s wall, %.3f s CPU; h=8: mean %.0f, MC VaR99 %.0f, ES99 %.0f\n",
                round, num_positions, num_assets, risk_s, risk_cpu, last.mean, last.figures[3].var, last.figures[3].es);
  }
  return 0;
}
