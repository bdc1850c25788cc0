// Asset returns from series (risk::AlignAssetReturns) and the run metrics of a stress-test
// report (risk::StressTestMetrics), issue 24.
#include <cmath>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "almanac/risk.h"
#include "core/testing/status_matchers.h"

namespace almanac::risk {
namespace {

using ::almanac::testing::StatusIs;

TimeSeries Quarterly(const std::string& start, std::vector<double> values) {
  return *TimeSeries::FromValues(*Period::Parse(start), std::move(values));
}

TEST(AlignAssetReturnsTest, KeepsThePeriodsWhereEveryAssetHasAValue) {
  const double nan = TimeSeries::kMissing;
  // a: 2000Q1..2000Q4 with 2000Q2 missing; b: 1999Q4..2000Q3.
  ASSERT_OK_AND_ASSIGN(AssetReturns r, AlignAssetReturns({"a", "b"}, {Quarterly("2000Q1", {0.1, nan, 0.3, 0.4}),
                                                                       Quarterly("1999Q4", {9, 1, 2, 3})}));
  EXPECT_EQ(r.assets, (std::vector<std::string>{"a", "b"}));
  ASSERT_EQ(r.periods.size(), 2u);
  EXPECT_EQ(r.periods[0].ToString(), "2000Q1");
  EXPECT_EQ(r.periods[1].ToString(), "2000Q3");
  EXPECT_EQ(r.values[0], (std::vector<double>{0.1, 0.3}));
  EXPECT_EQ(r.values[1], (std::vector<double>{1, 3}));
}

TEST(AlignAssetReturnsTest, BadInputNamesTheAsset) {
  const auto q = Quarterly("2000Q1", {0.1, 0.2, 0.3});
  EXPECT_THAT(AlignAssetReturns({}, {}), StatusIs(StatusCode::kInvalidArgument, "no asset"));
  EXPECT_THAT(AlignAssetReturns({"a"}, {q, q}), StatusIs(StatusCode::kInvalidArgument, "1 asset names but 2 series"));
  EXPECT_THAT(AlignAssetReturns({"a", "a"}, {q, q}), StatusIs(StatusCode::kInvalidArgument, "asset 'a' is named twice"));
  EXPECT_THAT(AlignAssetReturns({""}, {q}), StatusIs(StatusCode::kInvalidArgument, "asset 1 has no name"));
  EXPECT_THAT(AlignAssetReturns({"a", "b"}, {q, TimeSeries(*Period::Parse("2000Q1"))}),
              StatusIs(StatusCode::kInvalidArgument, "asset 'b': its return series has no observations"));
  EXPECT_THAT(AlignAssetReturns({"a", "m"}, {q, *TimeSeries::FromValues(*Period::Parse("2000-01"), {1, 2, 3})}),
              StatusIs(StatusCode::kInvalidArgument, "asset 'm': its return series' frequency differs from asset 'a'"));
  EXPECT_THAT(AlignAssetReturns({"a", "b"}, {q, Quarterly("2005Q1", {1, 2})}),
              StatusIs(StatusCode::kInvalidArgument, "no period in common"));
  EXPECT_THAT(AlignAssetReturns({"a", "b"}, {q, Quarterly("2000Q3", {1, 2})}, 3),
              StatusIs(StatusCode::kInvalidArgument, "have 1 period(s) in common, need at least 3"));
}

TEST(StressTestMetricsTest, MonteCarloFiguresPerScenarioHorizonAndLevel) {
  const Json report = *ParseJson(R"({"scenarios": [
      {"scenario": "base", "horizons": [
        {"h": 1, "figures": [{"method": "monte_carlo", "level": 0.95, "var": 1.5, "es": 2.5},
                             {"method": "normal", "level": 0.95, "var": 9, "es": 9},
                             {"method": "monte_carlo", "level": 0.975, "var": 3, "es": 4}]}]},
      {"scenario": "bad", "horizons": [{"h": 2, "figures": [{"method": "monte_carlo", "level": 0.99, "var": 7}]}]}]})");
  const auto m = StressTestMetrics(report);
  ASSERT_EQ(m.size(), 5u);
  EXPECT_EQ(m[0], (std::pair<std::string, double>{"risk.base.h1.var95", 1.5}));
  EXPECT_EQ(m[1], (std::pair<std::string, double>{"risk.base.h1.es95", 2.5}));
  EXPECT_EQ(m[2].first, "risk.base.h1.var97.5");
  EXPECT_EQ(m[4], (std::pair<std::string, double>{"risk.bad.h2.var99", 7}));
  EXPECT_TRUE(StressTestMetrics(Json::array()).empty());
  EXPECT_TRUE(StressTestMetrics(Json{{"scenarios", 3}}).empty());
}

}  // namespace
}  // namespace almanac::risk
