// Issue 25: TBATS fit (the whole automatic search) + forecast speed on the golden series of
// testdata/models/tbats/ (taylor_hourly: 672 values, periods 24 and 168; weekly: 209 values,
// period 52.18; airpassengers: 144 values, period 12), with the selected model and its AIC
// to compare with R's (bench/tbats/tbats_bench.R; run.sh runs both).
//   tbats_bench [SERIES...]    (default: all three)
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "almanac/models.h"

int main(int argc, char** argv) {
  std::ifstream in(ALMANAC_SOURCE_DIR "/testdata/models/tbats/series.csv");
  std::string line;
  std::getline(in, line);
  std::map<std::string, std::vector<double>> values;
  std::map<std::string, std::vector<double>> periods;
  while (std::getline(in, line)) {
    std::stringstream ss(line);
    std::string name, per, t, v;
    std::getline(ss, name, ',');
    std::getline(ss, per, ',');
    std::getline(ss, t, ',');
    std::getline(ss, v, ',');
    if (values[name].empty()) {
      std::stringstream ps(per);
      std::string p;
      while (std::getline(ps, p, ';')) periods[name].push_back(std::stod(p));
    }
    values[name].push_back(std::stod(v));
  }
  std::vector<std::string> names;
  for (int i = 1; i < argc; ++i) names.push_back(argv[i]);
  if (names.empty()) names = {"airpassengers", "weekly", "taylor_hourly"};
  almanac::models::ForecasterRegistry registry;
  almanac::models::RegisterBuiltinModels(registry);
  const double levels[] = {80, 95};
  for (const std::string& name : names) {
    if (!values.count(name)) {
      std::fprintf(stderr, "unknown series %s\n", name.c_str());
      return 1;
    }
    const almanac::models::ModelSpec spec{"tbats", {{"seasonal_periods", periods[name]}}};
    const auto t0 = std::chrono::steady_clock::now();
    auto model = registry.Create(spec);
    if (!model.ok() || !(*model)->Fit({values[name], 1}).ok() || !(*model)->Predict(48, levels).ok()) {
      std::fprintf(stderr, "tbats %s failed\n", name.c_str());
      return 1;
    }
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const auto d = (*model)->Describe();
    std::printf("almanac tbats %s n=%zu: %s AIC %.4f, %.2f s\n", name.c_str(), values[name].size(), d.method.c_str(),
                d.aic, s);
  }
  return 0;
}
