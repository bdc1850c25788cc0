#include <cmath>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "almanac/monitor.h"
#include "core/testing/status_matchers.h"

namespace almanac::monitor {
namespace {

using ::testing::HasSubstr;

// Quarterly actuals 1, 2, 3, ... from 2000Q1: the seasonal-naive (lag 4) MASE scale is 4.
TimeSeries Actuals(int n) {
  std::vector<double> v;
  for (int i = 0; i < n; ++i) v.push_back(i + 1);
  return *TimeSeries::FromValues(*Period::Parse("2000Q1"), v);
}

// A forecast from `origin` that is `bias` above the actuals, with 80% bounds +-1 and 95% +-3.
store::IssuedForecastRecord Forecast(const std::string& origin, int horizon, double bias) {
  store::IssuedForecastRecord f;
  f.model = "gdp";
  f.version = 3;
  f.target = "us:gdp";
  f.origin = origin;
  f.levels = {80, 95};
  f.lower.resize(2);
  f.upper.resize(2);
  const int64_t at = *Period::Parse(origin)->Diff(*Period::Parse("2000Q1"));
  for (int h = 1; h <= horizon; ++h) {
    const double y = static_cast<double>(at + h + 1);
    f.mean.push_back(y + bias);
    f.lower[0].push_back(y + bias - 1);
    f.upper[0].push_back(y + bias + 1);
    f.lower[1].push_back(y + bias - 3);
    f.upper[1].push_back(y + bias + 3);
  }
  return f;
}

const Json kBacktest = {{"mase", 0.4}, {"coverage80", 0.8}, {"coverage95", 0.9}};

TEST(AccuracyTest, RealizedMaseCoverageAndDegradation) {
  // 40 quarters of actuals (2000Q1..2009Q4); forecasts from 2008Q4 and 2009Q2 reach past the end.
  const std::vector<store::IssuedForecastRecord> fs = {Forecast("2008Q4", 4, 2), Forecast("2009Q2", 4, 2)};
  ASSERT_OK_AND_ASSIGN(VersionAccuracy a, EvaluateAccuracy("gdp", 3, kBacktest, fs, Actuals(40), AccuracyRule{}));
  EXPECT_EQ(a.forecasts, 2);
  EXPECT_EQ(a.evaluated, 6);  // 4 from 2008Q4, 2 from 2009Q2 (2009Q3, 2009Q4)
  EXPECT_DOUBLE_EQ(a.realized_mae, 2);
  EXPECT_DOUBLE_EQ(a.realized_mase, 0.5);  // |error| 2 / scale 4
  EXPECT_DOUBLE_EQ(a.backtest_mase, 0.4);
  ASSERT_EQ(a.by_horizon.size(), 4u);
  EXPECT_EQ(a.by_horizon[0].n, 2);
  EXPECT_EQ(a.by_horizon[3].n, 1);
  ASSERT_EQ(a.coverage.size(), 2u);
  EXPECT_EQ(a.coverage[0].level, 80);
  EXPECT_DOUBLE_EQ(a.coverage[0].realized, 0);  // every actual is 2 below the +-1 band
  EXPECT_DOUBLE_EQ(a.coverage[0].backtest, 0.8);
  EXPECT_DOUBLE_EQ(a.coverage[1].realized, 1);
  // 0.5 <= 1.5 x 0.4, but 80% coverage 0 < 0.8 - 0.15: degraded, and the reason says why.
  EXPECT_EQ(a.verdict, AccuracyVerdict::kDegraded);
  EXPECT_THAT(a.reason, HasSubstr("80% interval coverage 0.000 < 0.650"));
  EXPECT_THAT(a.reason, ::testing::Not(HasSubstr("MASE")));

  // A stricter MASE ratio adds the MASE reason; a looser coverage rule leaves only it.
  AccuracyRule strict;
  strict.max_mase_ratio = 1.2;
  strict.max_coverage_shortfall = 1;
  ASSERT_OK_AND_ASSIGN(a, EvaluateAccuracy("gdp", 3, kBacktest, fs, Actuals(40), strict));
  EXPECT_EQ(a.verdict, AccuracyVerdict::kDegraded);
  EXPECT_EQ(a.reason, "realized MASE 0.500 > 1.2 x backtest MASE 0.400");

  // Unbiased forecasts are within the policy.
  ASSERT_OK_AND_ASSIGN(a, EvaluateAccuracy("gdp", 3, kBacktest, {Forecast("2008Q4", 4, 0)}, Actuals(40), AccuracyRule{}));
  EXPECT_EQ(a.verdict, AccuracyVerdict::kOk);
  EXPECT_DOUBLE_EQ(a.realized_mase, 0);
}

TEST(AccuracyTest, NoForecastsNoActualsAndTooFew) {
  ASSERT_OK_AND_ASSIGN(VersionAccuracy a, EvaluateAccuracy("gdp", 3, kBacktest, {}, Actuals(40), AccuracyRule{}));
  EXPECT_EQ(a.verdict, AccuracyVerdict::kNoForecasts);
  EXPECT_THAT(a.reason, HasSubstr("no forecasts of gdp@3 are stored yet"));
  // The forecast starts after the last actual: nothing to score yet.
  ASSERT_OK_AND_ASSIGN(a, EvaluateAccuracy("gdp", 3, kBacktest, {Forecast("2009Q4", 4, 0)}, Actuals(40), AccuracyRule{}));
  EXPECT_EQ(a.verdict, AccuracyVerdict::kNoActuals);
  EXPECT_EQ(a.evaluated, 0);
  EXPECT_TRUE(std::isnan(a.realized_mase));
  EXPECT_THAT(a.reason, HasSubstr("no actuals yet"));
  EXPECT_THAT(a.reason, HasSubstr("the first is 2010Q1"));
  // Two errors, the default rule needs four.
  ASSERT_OK_AND_ASSIGN(a, EvaluateAccuracy("gdp", 3, kBacktest, {Forecast("2009Q2", 4, 5)}, Actuals(40), AccuracyRule{}));
  EXPECT_EQ(a.verdict, AccuracyVerdict::kTooFew);
  EXPECT_EQ(a.evaluated, 2);
  EXPECT_THAT(a.reason, HasSubstr("2 realized error(s); the policy needs 4"));
  // Without a backtest the MASE comparison is skipped; coverage still counts.
  ASSERT_OK_AND_ASSIGN(a, EvaluateAccuracy("gdp", 3, Json::object(), {Forecast("2008Q4", 4, 0)}, Actuals(40), AccuracyRule{}));
  EXPECT_TRUE(std::isnan(a.backtest_mase));
  EXPECT_EQ(a.verdict, AccuracyVerdict::kOk);
}

TEST(AccuracyTest, OriginInAnotherFrequencyIsRefused) {
  auto f = Forecast("2008Q4", 4, 0);
  f.origin = "2008-11";
  EXPECT_THAT(EvaluateAccuracy("gdp", 3, kBacktest, {f}, Actuals(40), AccuracyRule{}),
              testing::StatusIs(StatusCode::kInvalidArgument, "origin 2008-11 is not a period of us:gdp's frequency"));
}

TEST(AccuracyTest, PolicyRule) {
  ASSERT_OK_AND_ASSIGN(AccuracyRule r, ParseAccuracyRule(Json::object()));
  EXPECT_EQ(r.max_mase_ratio, 1.5);
  ASSERT_OK_AND_ASSIGN(r, ParseAccuracyRule(Json{{"four_eyes", true},
                                                 {"monitor", {{"max_mase_ratio", 2}, {"max_coverage_shortfall", 0.1}, {"min_errors", 8}}}}));
  EXPECT_EQ(r.max_mase_ratio, 2);
  EXPECT_EQ(r.max_coverage_shortfall, 0.1);
  EXPECT_EQ(r.min_errors, 8);
  EXPECT_THAT(ParseAccuracyRule(Json{{"monitor", {{"max_mase", 2}}}}),
              testing::StatusIs(StatusCode::kInvalidArgument, "unknown key policy.monitor.max_mase"));
  EXPECT_THAT(ParseAccuracyRule(Json{{"monitor", {{"max_mase_ratio", 0}}}}),
              testing::StatusIs(StatusCode::kInvalidArgument, "max_mase_ratio must be a number > 0"));
  EXPECT_THAT(ParseAccuracyRule(Json{{"monitor", {{"min_errors", 0.5}}}}),
              testing::StatusIs(StatusCode::kInvalidArgument, "min_errors must be an integer >= 1"));
  EXPECT_THAT(ParseAccuracyRule(Json{{"monitor", 3}}), testing::StatusIs(StatusCode::kInvalidArgument, "must be an object"));
}

TEST(AccuracyMetricsTest, PublishReplacesTheSetWithoutGaps) {
  MetricRegistry r;
  AccuracyMetrics m(r);
  VersionAccuracy a;
  a.model = "gdp";
  a.version = 3;
  a.evaluated = 6;
  a.realized_mase = 0.5;
  a.backtest_mase = 0.4;
  a.coverage = {{80, 6, 0.5, 0.8}};
  a.verdict = AccuracyVerdict::kDegraded;
  m.Publish({a});
  std::string text = r.Exposition();
  EXPECT_THAT(text, HasSubstr("almanac_forecast_realized_mase{model=\"gdp\",version=\"3\"} 0.5\n"));
  EXPECT_THAT(text, HasSubstr("almanac_forecast_backtest_mase{model=\"gdp\",version=\"3\"} 0.4\n"));
  EXPECT_THAT(text, HasSubstr("almanac_forecast_interval_coverage_ratio{model=\"gdp\",version=\"3\",level=\"80\"} 0.5\n"));
  EXPECT_THAT(text, HasSubstr("almanac_forecast_errors_evaluated{model=\"gdp\",version=\"3\"} 6\n"));
  EXPECT_THAT(text, HasSubstr("almanac_forecast_accuracy_degraded{model=\"gdp\",version=\"3\"} 1\n"));
  // gdp@4 replaces gdp@3 (a promotion): gdp@3's series are gone.
  a.version = 4;
  a.verdict = AccuracyVerdict::kNoActuals;
  a.realized_mase = std::nan("");
  m.Publish({a});
  text = r.Exposition();
  EXPECT_THAT(text, ::testing::Not(HasSubstr("version=\"3\"")));
  EXPECT_THAT(text, ::testing::Not(HasSubstr("almanac_forecast_realized_mase{")));
  EXPECT_THAT(text, HasSubstr("almanac_forecast_accuracy_degraded{model=\"gdp\",version=\"4\"} 0\n"));
}

}  // namespace
}  // namespace almanac::monitor
