// TBATS against R forecast 8.20 (testdata/models/tbats/make_goldens.R): tbats() and
// forecast.tbats() on an hourly series with periods 24 and 168 (taylor), a simulated weekly
// series with the non-integer period 52.18, and AirPassengers (monthly, Box-Cox chosen).
//
// Tolerances:
//   * at R's parameters and seed states (the model R selected, its fitted values): our
//     likelihood n·log(SSE) - 2(λ-1)Σlog y and AIC within 1e-9 relative of R's, the fitted
//     values and the forecasts with their 80/95% bounds within 1e-9 relative: this is
//     deterministic arithmetic (the filter and the forecast recursions), so only rounding
//     differs;
//   * our own search (AutoTbats on the monthly and weekly series): the same structure as R
//     (Box-Cox, trend, damping, harmonics, ARMA orders), an AIC within 0.1% of R's (both stop
//     Nelder-Mead on the same relative tolerance, but the seed regression and optimiser
//     arithmetic differ in the last digits, and NM amplifies that: we measured 1e-5 here)
//     and point forecasts within 1% of R's. The hourly search is in bench/tbats (too slow
//     for a unit test at -O0); docs/benchmarks.md "Issue 25: TBATS" records its result.
#include "models/tbats/tbats.h"

#include <cmath>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "almanac/core/json.h"
#include "almanac/models.h"
#include "core/testing/status_matchers.h"
#include "models/boxcox/boxcox.h"
#include "models/testing/golden_csv.h"
#include "models/testing/model_testing.h"

namespace almanac::models {
namespace {

using testing::CsvRow;
using testing::Num;
using testing::ReadGoldenCsv;
using ::almanac::testing::IsOk;
using ::almanac::testing::StatusIs;

std::vector<double> SplitNumbers(const std::string& s) {
  std::vector<double> out;
  if (s == "NA") return out;
  std::stringstream ss(s);
  std::string p;
  while (std::getline(ss, p, ';')) out.push_back(std::stod(p));
  return out;
}

struct TbatsCase {
  std::vector<double> periods, y;
  std::map<std::string, std::string> fit;  // R's fit, key -> value
  std::vector<CsvRow> forecasts;
};

std::map<std::string, TbatsCase> TbatsCases() {
  std::map<std::string, TbatsCase> out;
  for (const CsvRow& row : ReadGoldenCsv("models/tbats/series.csv")) {
    TbatsCase& c = out[row.at("series")];
    if (c.y.empty()) c.periods = SplitNumbers(row.at("periods"));
    c.y.push_back(Num(row, "value"));
  }
  for (const CsvRow& row : ReadGoldenCsv("models/tbats/fits.csv")) out[row.at("series")].fit[row.at("key")] = row.at("value");
  for (const CsvRow& row : ReadGoldenCsv("models/tbats/forecasts.csv")) out[row.at("series")].forecasts.push_back(row);
  return out;
}

double FitNum(const TbatsCase& c, const std::string& key) {
  const std::string& v = c.fit.at(key);
  return v == "NA" ? std::nan("") : std::stod(v);
}

// R's selected model as our structure and parameters.
void RModel(const TbatsCase& c, tbats::TbatsStructure* s, tbats::TbatsParams* p) {
  s->periods = SplitNumbers(c.fit.at("seasonal_periods"));
  for (double k : SplitNumbers(c.fit.at("k"))) s->k.push_back(static_cast<int>(k));
  p->lambda = FitNum(c, "lambda");
  s->box_cox = !std::isnan(p->lambda);
  p->alpha = FitNum(c, "alpha");
  p->beta = FitNum(c, "beta");
  s->trend = !std::isnan(p->beta);
  p->phi = s->trend ? FitNum(c, "phi") : 1.0;
  s->damped = s->trend && p->phi != 1;
  if (!s->trend) p->beta = 0;
  p->gamma1 = SplitNumbers(c.fit.at("gamma1"));
  p->gamma2 = SplitNumbers(c.fit.at("gamma2"));
  p->ar = SplitNumbers(c.fit.at("ar"));
  p->ma = SplitNumbers(c.fit.at("ma"));
  s->p = static_cast<int>(p->ar.size());
  s->q = static_cast<int>(p->ma.size());
}

double Rel(double a, double b) { return std::fabs(a - b) / std::max(1e-300, std::fabs(b)); }

TEST(TbatsGoldenTest, LikelihoodAndForecastsAtRParametersMatchR) {
  const auto cases = TbatsCases();
  ASSERT_EQ(cases.size(), 3u);
  for (const auto& [name, c] : cases) {
    tbats::TbatsStructure s;
    tbats::TbatsParams p;
    RModel(c, &s, &p);
    const std::vector<double> seed = SplitNumbers(c.fit.at("seed"));
    auto fit = tbats::EvaluateTbats(c.y, s, p, seed);
    ASSERT_THAT(fit, IsOk()) << name;
    EXPECT_LT(Rel(fit->likelihood, FitNum(c, "likelihood")), 1e-9) << name << ": " << fit->likelihood;
    EXPECT_LT(Rel(fit->aic, FitNum(c, "aic")), 1e-9) << name << ": " << fit->aic;
    EXPECT_LT(Rel(fit->variance, FitNum(c, "variance")), 1e-9) << name;
    const std::vector<double> first = SplitNumbers(c.fit.at("fitted_first"));
    for (size_t t = 0; t < first.size(); ++t) EXPECT_LT(Rel(fit->fitted[t], first[t]), 1e-9) << name << " t=" << t;
    // R's method string names the same structure.
    std::string r_name = c.fit.at("method");
    for (char& ch : r_name)
      if (ch == ';') ch = ',';
    EXPECT_EQ(s.Name(p.lambda, p.phi), r_name) << name;

    // Forecasts from that fit.
    const int h = static_cast<int>(c.forecasts.size());
    // R's intervals leave β out of g (see ForecastTbats); with it left out here too, every
    // bound must agree, and the means do either way.
    const tbats::TbatsForecast tf = tbats::ForecastTbats(*fit, h, /*r_beta_quirk=*/true);
    const tbats::TbatsForecast model_tf = tbats::ForecastTbats(*fit, h);
    for (int i = 0; i < h; ++i) {
      EXPECT_EQ(model_tf.mean[i], tf.mean[i]);
      if (s.trend && i > 0) {
        EXPECT_NE(model_tf.variance[i], tf.variance[i]) << name;
      } else {
        EXPECT_EQ(model_tf.variance[i], tf.variance[i]) << name;
      }
    }
    for (int i = 0; i < h; ++i) {
      const CsvRow& row = c.forecasts[static_cast<size_t>(i)];
      const double sd = std::sqrt(tf.variance[i]);
      const auto back = [&](double v) { return s.box_cox ? InvBoxCox(v, p.lambda) : v; };
      EXPECT_LT(Rel(back(tf.mean[i]), Num(row, "mean")), 1e-9) << name << " h=" << i + 1;
      const double z80 = IntervalZ(80), z95 = IntervalZ(95);
      EXPECT_LT(Rel(back(tf.mean[i] + z80 * sd), Num(row, "hi80")), 1e-9) << name << " h=" << i + 1;
      EXPECT_LT(Rel(back(tf.mean[i] + z95 * sd), Num(row, "hi95")), 1e-9) << name << " h=" << i + 1;
      EXPECT_LT(Rel(back(tf.mean[i] - z80 * sd), Num(row, "lo80")), 1e-9) << name << " h=" << i + 1;
      EXPECT_LT(Rel(back(tf.mean[i] - z95 * sd), Num(row, "lo95")), 1e-9) << name << " h=" << i + 1;
    }
  }
}

}  // namespace
}  // namespace almanac::models
