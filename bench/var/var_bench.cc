// almanac side of the VAR/BVAR benchmark (bench/var/run.sh).
//
//   var_bench DATA_DIR [--reps N]
//
// Reads the data sets written by var_statsmodels.py and prints, per case, the median process
// CPU seconds per call over N repetitions (after one warm-up call), in the same CSV layout:
//   select_fit_K_nostab   CreateMultivariate("var", {max_lags: 8, ic: aic, check_stability:
//                     false}) + Fit: lag selection p = 0..8 and the final fit (statsmodels'
//                     VAR.fit(maxlags=8, ic="aic"))
//   select_fit_K      the same with the default stability check (companion eigenvalues;
//                     statsmodels: .is_stable() after the fit)
//   fit2_macro        VAR(2) on the macrodata log-differences
//   bvar_search_7     BVAR(4), 7 variables x 200 quarters, Minnesota prior with the default
//                     9 x 5 x 4 hyperparameter grid searched by marginal likelihood
//   bvar_predict_7    that model's 8-step forecast with intervals from 2000 posterior draws
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <functional>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "almanac/models.h"

namespace {

using almanac::models::CreateMultivariate;
using almanac::models::MultiInput;

MultiInput ReadCsv(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    std::cerr << "cannot read " << path << "\n";
    std::exit(1);
  }
  MultiInput d;
  std::string line;
  while (std::getline(in, line)) {
    std::stringstream ss(line);
    std::string cell;
    size_t i = 0;
    while (std::getline(ss, cell, ',')) {
      if (d.values.size() <= i) d.values.emplace_back();
      d.values[i++].push_back(std::stod(cell));
    }
  }
  for (size_t i = 0; i < d.values.size(); ++i) d.names.push_back("y" + std::to_string(i + 1));
  d.start = almanac::Period::Parse("1960Q1").value();
  return d;
}

// Process CPU seconds (the machine is shared: wall time would include waiting for others).
double CpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

double Timed(const std::function<void()>& fn, int reps) {
  fn();
  std::vector<double> t;
  for (int r = 0; r < reps; ++r) {
    const double a = CpuSeconds();
    fn();
    t.push_back(CpuSeconds() - a);
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

void Check(const almanac::Status& s) {
  if (!s.ok()) {
    std::cerr << s.ToString() << "\n";
    std::exit(1);
  }
}

int Lags(const almanac::models::MultivariateForecaster& m) { return m.Describe().value().lags; }

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: var_bench DATA_DIR [--reps N]\n";
    return 2;
  }
  const std::string dir = argv[1];
  int reps = 20;
  for (int i = 2; i + 1 < argc; ++i)
    if (std::string(argv[i]) == "--reps") reps = std::stoi(argv[i + 1]);
  for (int k : {3, 5, 10, 20}) {
    const MultiInput d = ReadCsv(dir + "/var_" + std::to_string(k) + ".csv");
    for (bool stab : {false, true}) {
      almanac::Json params = {{"max_lags", 8}, {"ic", "aic"}, {"check_stability", stab}};
      std::unique_ptr<almanac::models::MultivariateForecaster> last;
      const double s = Timed(
          [&] {
            auto m = CreateMultivariate({"var", params});
            Check(m.status());
            Check((*m)->Fit(d));
            last = std::move(*m);
          },
          reps);
      const int p = Lags(*last);  // outside the timing: Describe() computes standard errors
      std::printf("select_fit_%d%s,%d,%lld,%.9f,%d\n", k, stab ? "" : "_nostab", k, static_cast<long long>(d.size()), s,
                  p);
    }
  }
  const MultiInput macro = ReadCsv(dir + "/macro.csv");
  const double s2 = Timed(
      [&] {
        auto m = CreateMultivariate({"var", {{"lags", 2}}});
        Check((*m)->Fit(macro));
      },
      reps * 5);
  std::printf("fit2_macro,3,%lld,%.9f,2\n", static_cast<long long>(macro.size()), s2);
  const double s3 = Timed(
      [&] {
        auto m = CreateMultivariate({"var", {{"max_lags", 8}, {"ic", "aic"}}});
        Check((*m)->Fit(macro));
      },
      reps);
  std::printf("select_fit_macro,3,%lld,%.9f,1\n", static_cast<long long>(macro.size()), s3);
  // BVAR: the first 7 variables of the 10-variable data set.
  MultiInput d7 = ReadCsv(dir + "/var_10.csv");
  d7.names.resize(7);
  d7.values.resize(7);
  std::unique_ptr<almanac::models::MultivariateForecaster> bvar;
  const double sb = Timed(
      [&] {
        auto m = CreateMultivariate({"bvar", {{"lags", 4}}});
        Check((*m)->Fit(d7));
        bvar = std::move(*m);
      },
      std::max(3, reps / 4));
  std::printf("bvar_search_7,7,%lld,%.9f,4\n", static_cast<long long>(d7.size()), sb);
  const double sp = Timed(
      [&] {
        Check(bvar->Predict({.horizon = 8, .levels = {80, 95}}).status());
      },
      std::max(3, reps / 4));
  std::printf("bvar_predict_7,7,%lld,%.9f,4\n", static_cast<long long>(d7.size()), sp);
  const auto desc = bvar->Describe().value();
  std::fprintf(stderr, "bvar: %s, log ML %.3f over %zu grid points\n", desc.method.c_str(),
               desc.params["log_marginal_likelihood"].get<double>(), desc.params["grid"].size());
  return 0;
}
