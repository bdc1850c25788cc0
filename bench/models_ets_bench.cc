// Speed of ETS fitting (auto_ets = R's ets(y)) on the golden series, and optionally on the
// whole M3 yearly/quarterly/monthly set:
//
//   ./build/dev/bench/models_ets_bench                       Google Benchmark runs
//   ALMANAC_M3_CSV=/path/to/m3.csv ./build/dev/bench/models_ets_bench --benchmark_filter=none
//       times auto_ets once per M3 series (training part) and prints mean/median/max ms.
//   ALMANAC_ETS_DUMP=/path/out.tsv (with ALMANAC_M3_CSV) also writes, per series, the
//       serialized fitted model and an 18-step forecast with 80/95% intervals (full
//       precision), so that two builds can be compared byte for byte (e.g. after a
//       speed change that must not change any result).
//
// Compare with R on the same machine: testdata/models/ets/make_goldens.R documents the R
// version; R's ets() on the same series is the reference (see docs/benchmarks.md).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "almanac/models.h"

namespace {

using almanac::Json;
using almanac::models::FitInput;
using almanac::models::ForecasterRegistry;

struct Series {
  int period = 1;
  std::vector<double> y;
};

std::map<std::string, Series> GoldenSeries() {
  std::map<std::string, Series> out;
  std::ifstream in(ALMANAC_SOURCE_DIR "/testdata/models/ets/series.csv");
  std::string line;
  std::getline(in, line);
  while (std::getline(in, line)) {
    std::stringstream ss(line);
    std::string name, period, t, value;
    std::getline(ss, name, ',');
    std::getline(ss, period, ',');
    std::getline(ss, t, ',');
    std::getline(ss, value, ',');
    out[name].period = std::stoi(period);
    out[name].y.push_back(value == "NA" ? std::nan("") : std::stod(value));
  }
  return out;
}

const ForecasterRegistry& Registry() {
  static const ForecasterRegistry* reg = [] {
    auto* r = new ForecasterRegistry;
    almanac::models::RegisterBuiltinModels(*r);
    return r;
  }();
  return *reg;
}

struct Fitted {
  std::unique_ptr<almanac::models::Forecaster> model;
  almanac::Status status;
};

Fitted FitOnce(const Series& s) {
  auto m = Registry().Create({"auto_ets", Json::object()});
  auto st = (*m)->Fit(FitInput{s.y, s.period});
  benchmark::DoNotOptimize(st);
  return {std::move(*m), st};
}

// One line of the ALMANAC_ETS_DUMP file.
void Dump(const Fitted& fit, const std::string& id, std::FILE* dump) {
  const almanac::Status& st = fit.status;
  const auto& m = fit.model;
  std::string line = id + "\t";
  if (!st.ok()) {
    line += "fit error: " + st.message();
  } else {
    auto bytes = almanac::models::SerializeModel(*m);
    line += bytes.ok() ? *bytes : "serialize error: " + bytes.status().message();
    const double levels[] = {80.0, 95.0};
    auto fc = m->Predict(18, levels);
    if (fc.ok()) {
      char buf[40];
      auto add = [&](const std::vector<double>& v) {
        line += "\t";
        for (double x : v) {
          std::snprintf(buf, sizeof buf, "%.17g ", x);
          line += buf;
        }
      };
      add(fc->mean);
      for (const auto& iv : fc->intervals) {
        add(iv.lower);
        add(iv.upper);
      }
    } else {
      line += "\tpredict error: " + fc.status().message();
    }
  }
  line += "\n";
  std::fputs(line.c_str(), dump);
}

void BM_AutoEts(benchmark::State& state, const std::string& name) {
  static const auto series = GoldenSeries();
  const Series& s = series.at(name);
  for (auto _ : state) FitOnce(s);
}

BENCHMARK_CAPTURE(BM_AutoEts, AirPassengers, std::string("AirPassengers"))->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_AutoEts, nottem, std::string("nottem"))->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_AutoEts, M3_N2211_monthly, std::string("N2211"))->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_AutoEts, M3_N0934_quarterly, std::string("N0934"))->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_AutoEts, M3_N0250_yearly, std::string("N0250"))->Unit(benchmark::kMillisecond);

// One timed auto_ets fit per M3 series of the given intervals.
void TimeM3(const char* path) {
  std::ifstream in(path);
  if (!in) {
    std::fprintf(stderr, "cannot read %s\n", path);
    return;
  }
  std::map<std::string, std::pair<std::string, Series>> all;  // id -> (interval, series)
  std::vector<std::string> order;
  std::string line;
  std::getline(in, line);  // series_id,category,frequency,period,split,t,time_label,value
  while (std::getline(in, line)) {
    std::vector<std::string> f;
    std::stringstream ss(line);
    std::string cell;
    while (std::getline(ss, cell, ',')) f.push_back(cell);
    if (f.size() < 8 || f[4] != "train") continue;
    if (f[3] != "YEARLY" && f[3] != "QUARTERLY" && f[3] != "MONTHLY" && f[3] != "OTHER") continue;
    auto [it, fresh] = all.try_emplace(f[0]);
    if (fresh) order.push_back(f[0]);
    it->second.first = f[3];
    it->second.second.period = std::stoi(f[2]);
    it->second.second.y.push_back(std::stod(f[7]));
  }
  std::FILE* dump = nullptr;
  if (const char* dump_path = std::getenv("ALMANAC_ETS_DUMP")) {
    dump = std::fopen(dump_path, "w");
    if (dump == nullptr) std::fprintf(stderr, "cannot write %s\n", dump_path);
  }
  std::map<std::string, std::vector<double>> ms;
  for (const auto& id : order) {
    const auto& [interval, s] = all[id];
    const auto t0 = std::chrono::steady_clock::now();
    const Fitted fit = FitOnce(s);
    const double t = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    if (dump != nullptr) Dump(fit, id, dump);
    ms[interval].push_back(t);
    ms["ALL"].push_back(t);
  }
  if (dump != nullptr) std::fclose(dump);
  std::printf("auto_ets on M3 (training data), ms per series:\n");
  for (auto& [k, v] : ms) {
    std::sort(v.begin(), v.end());
    double sum = 0;
    for (double x : v) sum += x;
    std::printf("  %-9s n=%4zu  mean %7.2f  median %7.2f  max %7.2f\n", k.c_str(), v.size(), sum / v.size(),
                v[v.size() / 2], v.back());
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (const char* m3 = std::getenv("ALMANAC_M3_CSV")) TimeM3(m3);
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
