// DFM estimation and news-update timings (issue 25; docs/benchmarks.md "Issue 25 (nowcasting)").
// Simulates 30 monthly indicators and quarterly GDP over 25 years from a 2-factor model (fixed
// seed), with a ragged edge, writes them as CSV (for the statsmodels comparison script
// bench/nowcast/statsmodels_dfm.py), fits one "global" block with 2 factors, AR(1), and times
// the fit and one news update (the last month's releases). Reports wall time and this
// process's CPU time (the shared benchmark machine is loaded, so wall time overstates the cost
// on one free core; the program is single-threaded).
//
//   dfm_bench [out.csv]
#include <chrono>
#include <ctime>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "almanac/models/nowcast.h"

using almanac::Frequency;
using almanac::Period;
using namespace almanac::models;  // NOLINT: a benchmark program

namespace {
double CpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}
}  // namespace

int main(int argc, char** argv) {
  const int kMonthly = 30, kMonths = 300;
  std::mt19937_64 rng(25);
  std::normal_distribution<double> z(0, 1);
  std::vector<std::vector<double>> f(2, std::vector<double>(kMonths + 5, 0));
  for (int t = 1; t < kMonths + 5; ++t) {
    f[0][t] = 0.7 * f[0][t - 1] + z(rng);
    f[1][t] = 0.4 * f[1][t - 1] + 0.8 * z(rng);
  }
  MixedFrequencyData d;
  d.start = Period(Frequency::kMonthly, 2000 * 12);
  for (int i = 0; i < kMonthly; ++i) {
    d.names.push_back("m" + std::to_string(i + 1));
    d.quarterly.push_back(false);
    const double l0 = 0.3 + 0.02 * i, l1 = (i % 3 == 0) ? 0.5 : -0.2;
    std::vector<double> v(kMonths);
    double e = 0;
    for (int t = 0; t < kMonths; ++t) {
      e = 0.3 * e + 0.7 * z(rng);
      v[static_cast<size_t>(t)] = l0 * f[0][static_cast<size_t>(t + 5)] + l1 * f[1][static_cast<size_t>(t + 5)] + e;
    }
    d.values.push_back(v);
  }
  d.names.push_back("gdp");
  d.quarterly.push_back(true);
  std::vector<double> gdp(kMonths, std::nan(""));
  const double w[5] = {1, 2, 3, 2, 1};
  for (int t = 2; t < kMonths; t += 3) {
    double s = 0;
    for (int l = 0; l < 5; ++l) s += w[l] * (0.4 * f[0][static_cast<size_t>(t + 5 - l)] + 0.2 * f[1][static_cast<size_t>(t + 5 - l)]);
    gdp[static_cast<size_t>(t)] = 0.5 + 0.2 * s + 0.3 * z(rng);
  }
  d.values.push_back(gdp);
  // Ragged edge: the last quarter's GDP unknown, the last month of half the indicators missing.
  d.values.back()[kMonths - 1] = std::nan("");
  for (int i = 0; i < kMonthly; i += 2) d.values[static_cast<size_t>(i)][kMonths - 1] = std::nan("");
  MixedFrequencyData old = d;
  for (int i = 1; i < kMonthly; i += 2) old.values[static_cast<size_t>(i)][kMonths - 1] = std::nan("");

  if (argc > 1) {
    std::ofstream out(argv[1]);
    out << "period";
    for (const auto& n : d.names) out << "," << n;
    out << "\n";
    for (int t = 0; t < kMonths; ++t) {
      out << (d.start + t).ToString();
      for (size_t i = 0; i < d.names.size(); ++i) {
        out << ",";
        const double v = d.values[i][static_cast<size_t>(t)];
        if (!std::isnan(v)) out << v;
      }
      out << "\n";
    }
  }
  DfmOptions options;
  options.blocks = {DfmBlock{"global", 2, 1, {}}};
  const double c0 = CpuSeconds();
  auto t0 = std::chrono::steady_clock::now();
  auto model = DynamicFactorModel::Fit(d, options);
  auto t1 = std::chrono::steady_clock::now();
  const double c1 = CpuSeconds();
  if (!model.ok()) {
    std::fprintf(stderr, "%s\n", model.status().ToString().c_str());
    return 1;
  }
  const Period q = (d.start + (kMonths - 1)).Convert(Frequency::kQuarterly);
  const double c2 = CpuSeconds();
  auto t2 = std::chrono::steady_clock::now();
  auto news = model->News(old, d, "gdp", q);
  auto t3 = std::chrono::steady_clock::now();
  const double c3 = CpuSeconds();
  if (!news.ok()) {
    std::fprintf(stderr, "%s\n", news.status().ToString().c_str());
    return 1;
  }
  const double fit_s = std::chrono::duration<double>(t1 - t0).count();
  const double news_ms = std::chrono::duration<double, std::milli>(t3 - t2).count();
  std::printf("fit: %.3f s wall, %.3f s CPU, %d EM iterations (%.1f ms CPU each), converged %d, llf %.4f\n",
              fit_s, c1 - c0, model->report().iterations, 1000 * (c1 - c0) / model->report().iterations,
              model->report().converged ? 1 : 0, model->report().loglik);
  std::printf("news update: %.2f ms wall, %.2f ms CPU, %zu releases, nowcast %.4f -> %.4f\n", news_ms,
              1000 * (c3 - c2), news->items.size(), news->old_value, news->new_value);
  return 0;
}
