// Backtests: a hand-checked example, sliding windows, real-time backtests on a series with known
// revisions (differences from the final-data backtest exactly as expected), thread-count
// independence, multivariate backtests; CRPS and the Diebold-Mariano test against R.
#include <cmath>
#include <fstream>
#include <map>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "almanac/eval.h"

#include "core/testing/status_matchers.h"

namespace almanac::eval {
namespace {

using ::almanac::testing::IsOk;
using ::almanac::testing::StatusIs;
using ::testing::DoubleNear;

models::ForecasterRegistry& Registry() {
  static models::ForecasterRegistry* r = [] {
    auto* reg = new models::ForecasterRegistry();
    models::RegisterBuiltinModels(*reg);
    return reg;
  }();
  return *r;
}

TimeSeries Annual(std::vector<double> v) {
  return TimeSeries::FromValues(Period::Parse("2000").value(), std::move(v)).value();
}

// y = 3 5 4 6 8 7 9 12 10 11; naive forecasts from origins 2005, 2006, 2007 (h = 2):
//   origin 2005 (last 7):  actual 9 12  -> errors 2 5
//   origin 2006 (last 9):  actual 12 10 -> errors 3 1
//   origin 2007 (last 12): actual 10 11 -> errors -2 -1
const std::vector<double> kY = {3, 5, 4, 6, 8, 7, 9, 12, 10, 11};

TEST(BacktestTest, HandCheckedNaiveExample) {
  BacktestSettings s{.horizon = 2, .origins = 3, .step = 1, .levels = {80}};
  auto r = Backtest(Registry(), {"naive", Json::object()}, Annual(kY), s);
  ASSERT_THAT(r, IsOk());
  ASSERT_EQ(r->origins.size(), 3u);
  EXPECT_EQ(r->origins[0].origin.ToString(), "2005");
  EXPECT_EQ(r->origins[2].origin.ToString(), "2007");
  EXPECT_EQ(r->origins[1].train_size, 7);
  EXPECT_EQ(r->origins[1].mean, (std::vector<double>{9, 9}));
  EXPECT_EQ(r->origins[1].actual, (std::vector<double>{12, 10}));
  EXPECT_EQ(ErrorsAtHorizon(*r, 2), (std::vector<double>{5, 1, -1}));
  EXPECT_EQ(r->overall.n, 6);
  EXPECT_THAT(r->overall.mae, DoubleNear(14.0 / 6, 1e-12));
  EXPECT_THAT(r->overall.rmse, DoubleNear(std::sqrt(44.0 / 6), 1e-12));
  EXPECT_THAT(r->by_horizon[0].mae, DoubleNear(7.0 / 3, 1e-12));
  EXPECT_THAT(r->by_horizon[1].rmse, DoubleNear(std::sqrt(27.0 / 3), 1e-12));
  // MASE: each origin's errors over its own in-sample naive MAE (8/5, 10/6, 13/7).
  const double mase = (2 / 1.6 + 5 / 1.6 + 3 / (10.0 / 6) + 1 / (10.0 / 6) + 2 / (13.0 / 7) + 1 / (13.0 / 7)) / 6;
  EXPECT_THAT(r->overall.mase, DoubleNear(mase, 1e-12));
  EXPECT_THAT(r->origins[2].mase_scale, DoubleNear(13.0 / 7, 1e-12));
  // sMAPE of the pooled pairs.
  double smape = 0;
  const double y[] = {9, 12, 12, 10, 10, 11}, f[] = {7, 7, 9, 9, 12, 12};
  for (int i = 0; i < 6; ++i) smape += 200 * std::fabs(y[i] - f[i]) / (y[i] + f[i]) / 6;
  EXPECT_THAT(r->overall.smape, DoubleNear(smape, 1e-12));
  ASSERT_EQ(r->overall.intervals.size(), 1u);
  EXPECT_EQ(r->overall.intervals[0].n, 6);
  EXPECT_TRUE(std::isnan(r->crps));
  EXPECT_EQ(r->failures, 0);
}

TEST(BacktestTest, SlidingWindowsAndSteps) {
  BacktestSettings s{.horizon = 1, .origins = 3, .step = 2, .window = WindowType::kSliding, .window_size = 4};
  auto r = Backtest(Registry(), {"mean", Json::object()}, Annual(kY), s);
  ASSERT_THAT(r, IsOk());
  // Ends 5, 7, 9: windows [1,5) [3,7) [5,9).
  EXPECT_EQ(r->origins[0].origin.ToString(), "2004");
  EXPECT_EQ(r->origins[1].origin.ToString(), "2006");
  EXPECT_EQ(r->origins[2].train_start->ToString(), "2005");
  EXPECT_EQ(r->origins[0].mean[0], (5 + 4 + 6 + 8) / 4.0);
  EXPECT_EQ(r->origins[2].mean[0], (7 + 9 + 12 + 10) / 4.0);
  EXPECT_EQ(r->origins[2].actual[0], 11);
}

TEST(BacktestTest, ErrorsNameTheProblem) {
  BacktestSettings s{.horizon = 4, .origins = 6};
  EXPECT_THAT(Backtest(Registry(), {"naive", Json::object()}, Annual(kY), s),
              StatusIs(StatusCode::kInvalidArgument, "need 11"));
  s.origins = 0;
  EXPECT_THAT(Backtest(Registry(), {"naive", Json::object()}, Annual(kY), s), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(Backtest(Registry(), {"naiv", Json::object()}, Annual(kY), {}), StatusIs(StatusCode::kNotFound));
  // Every origin failing returns the failure (snaive needs more than one season).
  BacktestSettings q{.horizon = 1, .origins = 2, .period = 12};
  EXPECT_THAT(Backtest(Registry(), {"snaive", Json::object()}, Annual(kY), q),
              StatusIs(StatusCode::kInvalidArgument, "snaive"));
}

// A quarterly series whose first release of quarter i (published 30 days after the quarter
// ends) is final_i - 1, revised to final_i when the next quarter is first published.
struct RevisedSeries {
  Period start = Period::Parse("2000Q1").value();
  std::vector<double> final_values;
  Date Release(int i) const { return (start + i).EndDate() + 30; }
  Result<TimeSeries> AsOf(std::optional<Date> as_of) const {
    TimeSeries ts(start);
    for (int i = 0; i < static_cast<int>(final_values.size()); ++i) {
      if (as_of && Release(i) > *as_of) break;
      const bool revised = !as_of || (i + 1 < static_cast<int>(final_values.size()) && Release(i + 1) <= *as_of);
      ALMANAC_RETURN_IF_ERROR(ts.Append(revised ? final_values[i] : final_values[i] - 1));
    }
    return ts;
  }
};

TEST(BacktestRealTimeTest, RevisionsShiftNaiveErrorsExactly) {
  RevisedSeries rs;
  for (int i = 0; i < 16; ++i) rs.final_values.push_back(100 + 3 * i + (i % 3));
  const TimeSeries latest = rs.AsOf(std::nullopt).value();
  BacktestSettings s{.horizon = 3, .origins = 6, .step = 1, .levels = {90}};
  auto final_bt = Backtest(Registry(), {"naive", Json::object()}, latest, s);
  ASSERT_THAT(final_bt, IsOk());
  VintageSource source = [&](std::optional<Date> d) { return rs.AsOf(d); };
  // Lag 30: each origin's quarter was just published (first release = final - 1), so the
  // naive forecast is 1 lower and every error exactly 1 larger.
  auto rt = BacktestRealTime(Registry(), {"naive", Json::object()}, source, {.publication_lag_days = 30}, s);
  ASSERT_THAT(rt, IsOk());
  ASSERT_EQ(rt->origins.size(), final_bt->origins.size());
  for (size_t o = 0; o < rt->origins.size(); ++o) {
    EXPECT_EQ(rt->origins[o].origin, final_bt->origins[o].origin);
    EXPECT_EQ(rt->origins[o].as_of, rs.Release(static_cast<int>(*rt->origins[o].origin.Diff(rs.start))));
    EXPECT_EQ(rt->origins[o].gap, 0);
    EXPECT_EQ(rt->origins[o].actual, final_bt->origins[o].actual);
    for (int h = 0; h < 3; ++h) EXPECT_EQ(rt->origins[o].mean[h], final_bt->origins[o].mean[h] - 1) << o << "," << h;
  }
  for (int h = 1; h <= 3; ++h) {
    const auto e_rt = ErrorsAtHorizon(*rt, h), e_f = ErrorsAtHorizon(*final_bt, h);
    for (size_t o = 0; o < e_rt.size(); ++o) EXPECT_EQ(e_rt[o], e_f[o] + 1);
  }
  // Lag 10: the origin quarter is not yet published; the vintage ends one quarter earlier with
  // that quarter's first release, and the model forecasts through the gap.
  auto early = BacktestRealTime(Registry(), {"naive", Json::object()}, source, {.publication_lag_days = 10}, s);
  ASSERT_THAT(early, IsOk());
  for (const auto& o : early->origins) {
    EXPECT_EQ(o.gap, 1);
    const int e = static_cast<int>(*o.origin.Diff(rs.start));
    EXPECT_EQ(o.train_size, e);  // quarters 0..e-1
    for (int h = 0; h < 3; ++h) EXPECT_EQ(o.mean[h], rs.final_values[e - 1] - 1);
  }
}

TEST(BacktestRealTimeTest, MultivariateWithoutRevisionsEqualsTheFinalDataBacktest) {
  // Two series known 30 days after each quarter, never revised.
  models::MultiInput data;
  data.names = {"a", "b"};
  data.start = Period::Parse("1990Q1").value();
  data.values.assign(2, {});
  double a = 0, b = 0;
  for (int t = 0; t < 60; ++t) {
    a = 0.5 * a + 0.2 * b + std::sin(t * 1.7);
    b = 0.3 * b + std::cos(t * 0.9 + 1);
    data.values[0].push_back(a);
    data.values[1].push_back(b);
  }
  MultiVintageSource source = [&](std::optional<Date> d) -> Result<models::MultiInput> {
    if (!d) return data;
    models::MultiInput v = data;
    int n = 0;
    while (n < 60 && (*data.start + n).EndDate() + 30 <= *d) ++n;
    for (auto& col : v.values) col.resize(static_cast<size_t>(n));
    return v;
  };
  BacktestSettings s{.horizon = 2, .origins = 5, .levels = {80, 95}};
  const models::ModelSpec spec{"var", {{"lags", 1}, {"draws", 200}}};
  auto final_bt = BacktestMultivariate(spec, data, s);
  ASSERT_THAT(final_bt, IsOk());
  auto rt = BacktestMultivariateRealTime(spec, source, {.publication_lag_days = 30}, s);
  ASSERT_THAT(rt, IsOk());
  ASSERT_EQ(rt->variables.size(), 2u);
  for (int i = 0; i < 2; ++i) {
    for (size_t o = 0; o < 5; ++o) {
      EXPECT_EQ(rt->variables[i].origins[o].mean, final_bt->variables[i].origins[o].mean);
      EXPECT_EQ(rt->variables[i].origins[o].crps, final_bt->variables[i].origins[o].crps);
    }
    EXPECT_EQ(rt->variables[i].overall.rmse, final_bt->variables[i].overall.rmse);
    EXPECT_FALSE(std::isnan(final_bt->variables[i].crps));
    EXPECT_GT(final_bt->variables[i].crps, 0);
  }
  // Ten days after the quarter nothing new is known: every origin forecasts through a gap.
  auto early = BacktestMultivariateRealTime(spec, source, {.publication_lag_days = 10}, s);
  ASSERT_THAT(early, IsOk());
  EXPECT_EQ(early->variables[0].origins[0].gap, 1);
  EXPECT_NE(early->variables[0].origins[0].mean, final_bt->variables[0].origins[0].mean);
}

TEST(BacktestTest, ResultsDoNotDependOnThreads) {
  std::vector<TimeSeries> many;
  for (int j = 0; j < 6; ++j) {
    std::vector<double> v;
    for (int t = 0; t < 48; ++t) v.push_back(10 + j + std::sin(t * 0.5 + j) + 0.05 * t + (t % 12 == 0 ? 1 : 0));
    many.push_back(TimeSeries::FromValues(Period::Parse("2000-01").value(), v).value());
  }
  BacktestSettings s{.horizon = 6, .origins = 4, .step = 3, .threads = 1};
  auto one = BacktestMany(Registry(), {"theta", Json::object()}, many, s);
  s.threads = 2;
  auto two = BacktestMany(Registry(), {"theta", Json::object()}, many, s);
  ASSERT_EQ(one.size(), 6u);
  for (size_t i = 0; i < 6; ++i) {
    ASSERT_THAT(one[i], IsOk());
    ASSERT_THAT(two[i], IsOk());
    for (size_t o = 0; o < 4; ++o) EXPECT_EQ(one[i]->origins[o].mean, two[i]->origins[o].mean);
    EXPECT_EQ(one[i]->overall.mase, two[i]->overall.mase);
  }
}

TEST(CrpsTest, HandValues) {
  const std::vector<double> x = {3, 1, 2};
  // E|X - 2| = 2/3, E|X - X'| = 8/9: 2/3 - 4/9.
  EXPECT_THAT(CrpsSample(2, x), ::almanac::testing::IsOkAndHolds(DoubleNear(2.0 / 9, 1e-15)));
  const std::vector<double> point = {5};
  EXPECT_THAT(CrpsSample(3, point), ::almanac::testing::IsOkAndHolds(DoubleNear(2.0, 1e-15)));
  EXPECT_THAT(CrpsSample(3, {}), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(CrpsSample(kNaN, x), StatusIs(StatusCode::kInvalidArgument));
}

TEST(DieboldMarianoTest, MatchesRForecastDmTest) {
  std::vector<double> e1, e2;
  for (int t = 1; t <= 40; ++t) {
    e1.push_back(std::sin(t * 0.7) + 0.3 * std::cos(t * 1.3));
    e2.push_back(0.8 * std::sin(t * 0.7 + 0.4) + 0.5 * std::cos(t * 2.1) + 0.1);
  }
  std::ifstream in(std::string(ALMANAC_SOURCE_DIR) + "/testdata/eval/dm/dm_goldens.csv");
  std::string line;
  std::getline(in, line);
  int rows = 0;
  while (std::getline(in, line)) {
    std::stringstream ss(line);
    std::string h, power, alt, stat, pval;
    std::getline(ss, h, ',');
    std::getline(ss, power, ',');
    std::getline(ss, alt, ',');
    std::getline(ss, stat, ',');
    std::getline(ss, pval, ',');
    const DmAlternative a = alt == "less"      ? DmAlternative::kLess
                            : alt == "greater" ? DmAlternative::kGreater
                                               : DmAlternative::kTwoSided;
    auto r = DieboldMariano(e1, e2, std::stoi(h), std::stod(power), a);
    ASSERT_THAT(r, IsOk()) << line;
    EXPECT_NEAR(r->statistic, std::stod(stat), 1e-10 * std::fabs(std::stod(stat))) << line;
    EXPECT_NEAR(r->pvalue, std::stod(pval), 1e-9 * std::stod(pval)) << line;
    if (h == "4" && power == "1") {
      EXPECT_EQ(r->horizon, 1);
      EXPECT_FALSE(r->notes.empty());
    }
    ++rows;
  }
  EXPECT_EQ(rows, 18);
  EXPECT_THAT(DieboldMariano(e1, e1, 1), StatusIs(StatusCode::kInvalidArgument, "zero"));
  EXPECT_THAT(DieboldMariano(e1, std::vector<double>(3, 1.0), 1), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(DieboldMariano(e1, e2, 40), StatusIs(StatusCode::kInvalidArgument, "horizon"));
}

}  // namespace
}  // namespace almanac::eval
