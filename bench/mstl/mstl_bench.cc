// Issue 25: MSTL fit + forecast speed on the golden half-hourly series (taylor, first four
// weeks: 1344 observations, periods 48 and 336), for method naive (the decomposition's cost)
// and ets (plus ETS on the adjusted series). Compare with bench/mstl/mstl_bench.R via run.sh.
//   mstl_bench [REPS]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "almanac/models.h"

int main(int argc, char** argv) {
  const int reps = argc > 1 ? std::atoi(argv[1]) : 20;
  std::ifstream in(ALMANAC_SOURCE_DIR "/testdata/models/mstl/series.csv");
  std::string line;
  std::getline(in, line);
  std::vector<double> y;
  while (std::getline(in, line)) {
    if (line.rfind("taylor4w,", 0) != 0) continue;
    y.push_back(std::stod(line.substr(line.rfind(',') + 1)));
  }
  if (y.size() != 1344) {
    std::fprintf(stderr, "expected 1344 observations of taylor4w, got %zu\n", y.size());
    return 1;
  }
  almanac::models::ForecasterRegistry registry;
  almanac::models::RegisterBuiltinModels(registry);
  const double levels[] = {80, 95};
  for (const char* method : {"naive", "ets"}) {
    const almanac::models::ModelSpec spec{"mstl", {{"periods", {48, 336}}, {"method", method}}};
    double best = 1e30, total = 0;
    for (int r = 0; r < reps; ++r) {
      const auto t0 = std::chrono::steady_clock::now();
      auto model = registry.Create(spec);
      if (!model.ok() || !(*model)->Fit({y, 48}).ok() || !(*model)->Predict(96, levels).ok()) {
        std::fprintf(stderr, "mstl %s failed\n", method);
        return 1;
      }
      const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      best = std::min(best, ms);
      total += ms;
    }
    std::printf("almanac mstl method=%s n=1344 periods=48,336 h=96: best %.2f ms, mean %.2f ms over %d\n", method, best,
                total / reps, reps);
  }
  return 0;
}
