// Issue 24: joint simulation of macro paths. The figure asked for: 100,000 paths x 8 quarters
// x 10 variables from a VAR(2) in under 1 s on 2 cores (values stored as doubles: 64 MB).
//
//   ./build/ci/bench/paths_bench                                   all cases
//   /usr/bin/time -v ./build/ci/bench/paths_bench --benchmark_filter='BM_Paths/shocks:0/threads:2'
//                                                                  one case, with peak RSS
//
// The VAR(2) is fitted on 200 quarters of a synthetic stationary 10-variable system (an LCG,
// no library RNG), so the program needs no data files. Args: shocks (0 gaussian, 1 t(5),
// 2 bootstrap), threads.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "almanac/models.h"

namespace {

using namespace almanac;
using namespace almanac::models;

std::unique_ptr<MultivariateForecaster> FitVar2() {
  const int k = 10, n = 200;
  MultiInput d;
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
  auto m = CreateMultivariate({"var", Json{{"lags", 2}}}).value();
  if (!m->Fit(d).ok()) std::abort();
  return m;
}

void BM_Paths(benchmark::State& state) {
  static const auto model = FitVar2();
  PathSimulationRequest r;
  r.num_paths = 100000;
  r.horizon = 8;
  r.shocks = static_cast<ShockDistribution>(state.range(0));
  r.threads = static_cast<int>(state.range(1));
  r.seed = 42;
  for (auto _ : state) {
    auto p = model->SimulatePaths(r);
    if (!p.ok()) {
      state.SkipWithError(p.status().ToString().c_str());
      break;
    }
    benchmark::DoNotOptimize(p->values.data());
  }
  state.counters["values"] = 100000.0 * 8 * 10;
  state.counters["MB"] = 100000.0 * 8 * 10 * 8 / 1e6;
}

BENCHMARK(BM_Paths)
    ->ArgNames({"shocks", "threads"})
    ->Args({0, 1})
    ->Args({0, 2})
    ->Args({1, 2})
    ->Args({2, 2})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
