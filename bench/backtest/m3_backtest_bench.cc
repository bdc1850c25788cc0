// Rolling-origin backtest speed on M3 monthly series (bench/backtest/README.md).
//
//   m3_backtest_bench M3_CSV [--series 1000] [--origins 12] [--horizon 6] [--step 1]
//                     [--model auto_ets] [--threads 2]
//
// Reads the tidy M3 file (series_id,category,frequency,period,split,t,time_label,value), takes
// the first N MONTHLY series by id (training and test parts joined: the whole series), and
// backtests the model with expanding windows: `origins` origins `step` apart, the last one
// `horizon` periods before the end. Runs eval::BacktestMany on `threads` threads and prints
// the wall time, fits per second and the pooled accuracy.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "almanac/eval.h"
#include "almanac/models.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: m3_backtest_bench M3_CSV [--series N] [--origins N] [--horizon H] [--step S] [--model M] "
                 "[--threads T]\n";
    return 2;
  }
  int n_series = 1000, origins = 12, horizon = 6, step = 1, threads = 2;
  std::string model = "auto_ets";
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--series")
      n_series = std::stoi(v);
    else if (k == "--origins")
      origins = std::stoi(v);
    else if (k == "--horizon")
      horizon = std::stoi(v);
    else if (k == "--step")
      step = std::stoi(v);
    else if (k == "--model")
      model = v;
    else if (k == "--threads")
      threads = std::stoi(v);
    else {
      std::cerr << "unknown option " << k << "\n";
      return 2;
    }
  }
  std::ifstream in(argv[1]);
  if (!in) {
    std::cerr << "cannot read " << argv[1] << "\n";
    return 1;
  }
  // series id -> (t, value), MONTHLY only.
  std::map<std::string, std::vector<std::pair<int, double>>> rows;
  std::string line;
  std::getline(in, line);
  while (std::getline(in, line)) {
    std::vector<std::string> f;
    std::stringstream ss(line);
    std::string cell;
    while (std::getline(ss, cell, ',')) f.push_back(cell);
    if (f.size() < 8 || f[3] != "MONTHLY") continue;
    const int t = std::stoi(f[5]) + (f[4] == "test" ? 100000 : 0);
    rows[f[0]].emplace_back(t, std::stod(f[7]));
  }
  std::vector<almanac::TimeSeries> series;
  std::vector<std::string> ids;
  for (auto& [id, obs] : rows) {
    if (static_cast<int>(series.size()) >= n_series) break;
    std::sort(obs.begin(), obs.end());
    std::vector<double> v;
    for (const auto& o : obs) v.push_back(o.second);
    series.push_back(almanac::TimeSeries::FromValues(almanac::Period::Parse("2000-01").value(), v).value());
    ids.push_back(id);
  }
  almanac::models::ForecasterRegistry registry;
  almanac::models::RegisterBuiltinModels(registry);
  almanac::eval::BacktestSettings s;
  s.horizon = horizon;
  s.origins = origins;
  s.step = step;
  s.threads = threads;
  s.levels = {80, 95};
  const auto t0 = std::chrono::steady_clock::now();
  auto results = almanac::eval::BacktestMany(registry, {model, almanac::Json::object()}, series, s);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  int failed_series = 0, failed_origins = 0;
  double smape = 0, mase = 0, cov95 = 0;
  int scored = 0;
  for (size_t i = 0; i < results.size(); ++i) {
    if (!results[i].ok()) {
      ++failed_series;
      std::cerr << ids[i] << ": " << results[i].status().ToString() << "\n";
      continue;
    }
    failed_origins += results[i]->failures;
    if (std::isfinite(results[i]->overall.smape)) {
      smape += results[i]->overall.smape;
      mase += results[i]->overall.mase;
      cov95 += results[i]->overall.intervals[1].coverage;
      ++scored;
    }
  }
  const int fits = static_cast<int>(series.size()) * origins;
  std::printf(
      "model %s: %zu monthly series x %d origins (horizon %d, step %d) = %d fits on %d threads: %.2f s "
      "(%.1f fits/s); failed series %d, failed origins %d; mean sMAPE %.3f, MASE %.3f, cov95 %.3f\n",
      model.c_str(), series.size(), origins, horizon, step, fits, threads, secs, fits / secs, failed_series,
      failed_origins, smape / std::max(1, scored), mase / std::max(1, scored), cov95 / std::max(1, scored));
  return 0;
}
