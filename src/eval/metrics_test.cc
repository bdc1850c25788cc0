#include <cmath>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "almanac/eval.h"

#include "core/testing/status_matchers.h"

namespace almanac::eval {
namespace {

using ::almanac::testing::IsOkAndHolds;
using ::almanac::testing::StatusIs;
using ::testing::DoubleNear;
using ::testing::HasSubstr;

// actual 100 200 300 NaN, forecast 110 180 300 5: the NaN pair is ignored, errors -10, 20, 0.
const std::vector<double> kActual = {100, 200, 300, kNaN};
const std::vector<double> kForecast = {110, 180, 300, 5};

TEST(PointMetricsTest, HandComputedValuesIgnoringMissingPairs) {
  EXPECT_THAT(Mae(kActual, kForecast), IsOkAndHolds(DoubleNear(10.0, 1e-12)));
  EXPECT_THAT(Rmse(kActual, kForecast), IsOkAndHolds(DoubleNear(std::sqrt(500.0 / 3), 1e-12)));
  // 10% and 10% and 0%.
  EXPECT_THAT(Mape(kActual, kForecast), IsOkAndHolds(DoubleNear(20.0 / 3, 1e-12)));
  // 200*10/210 = 9.5238..., 200*20/380 = 10.5263..., 0.
  EXPECT_THAT(Smape(kActual, kForecast), IsOkAndHolds(DoubleNear((2000.0 / 210 + 4000.0 / 380) / 3, 1e-12)));
}

TEST(PointMetricsTest, SmapeConventions) {
  const std::vector<double> y = {0, 5}, f = {0, -5};
  // 0/0 counts as 0; opposite signs give the maximum 200.
  EXPECT_THAT(Smape(y, f), IsOkAndHolds(DoubleNear(100.0, 1e-12)));
}

TEST(PointMetricsTest, ErrorsNameTheProblem) {
  const std::vector<double> two = {1, 2}, three = {1, 2, 3};
  EXPECT_THAT(Mae(two, three), StatusIs(StatusCode::kInvalidArgument, "2 actual values but 3 forecast values"));
  const std::vector<double> nan2 = {kNaN, kNaN};
  EXPECT_THAT(Rmse(nan2, two), StatusIs(StatusCode::kInvalidArgument, "no pairs without missing values"));
  const std::vector<double> zero = {1, 0};
  EXPECT_THAT(Mape(zero, two), StatusIs(StatusCode::kInvalidArgument, "position 2 is 0"));
  // A zero actual paired with a missing forecast is skipped like any other missing pair.
  const std::vector<double> f_missing = {1, kNaN};
  EXPECT_THAT(Mape(zero, f_missing), IsOkAndHolds(0.0));
}

TEST(MaseTest, HandComputedForPeriods1And2) {
  const std::vector<double> insample = {1, 3, 2, 6, 5};
  // Lag 1: |2| |1| |4| |1| -> 2. Lag 2: |1| |3| |3| -> 7/3.
  EXPECT_THAT(MaseScale(insample, 1), IsOkAndHolds(DoubleNear(2.0, 1e-15)));
  EXPECT_THAT(MaseScale(insample, 2), IsOkAndHolds(DoubleNear(7.0 / 3, 1e-15)));
  EXPECT_THAT(MaseScale(insample, 0), IsOkAndHolds(DoubleNear(2.0, 1e-15)));  // period < 1 means 1
  const std::vector<double> y = {7, 8}, f = {6, 10};                          // MAE 1.5
  EXPECT_THAT(Mase(y, f, insample, 1), IsOkAndHolds(DoubleNear(0.75, 1e-15)));
  EXPECT_THAT(Mase(y, f, insample, 2), IsOkAndHolds(DoubleNear(1.5 * 3 / 7, 1e-15)));
  // Missing in-sample values drop the pairs they belong to: lag 1 pairs left (3,2) and (6,5).
  const std::vector<double> gaps = {1, kNaN, 2, 6, 5, kNaN};
  EXPECT_THAT(MaseScale(std::vector<double>{1, kNaN, 3, 2}, 1), IsOkAndHolds(DoubleNear(1.0, 1e-15)));
  EXPECT_THAT(MaseScale(gaps, 1), IsOkAndHolds(DoubleNear(2.5, 1e-15)));
}

TEST(MaseTest, UndefinedScaleIsAnError) {
  const std::vector<double> flat = {4, 4, 4};
  EXPECT_THAT(MaseScale(flat, 1), StatusIs(StatusCode::kInvalidArgument, "scale is 0"));
  const std::vector<double> short_series = {1, 2, 3};
  EXPECT_THAT(MaseScale(short_series, 4), StatusIs(StatusCode::kInvalidArgument, "at least 5"));
}

// actual 1 2 3 4 NaN; intervals [0,2] [2.5,3] [3,3] [0,3] [0,1]: in, below, in (on the bound),
// above, skipped.
const std::vector<double> kCoveredY = {1, 2, 3, 4, kNaN};
const std::vector<double> kLo = {0, 2.5, 3, 0, 0};
const std::vector<double> kHi = {2, 3, 3, 3, 1};

TEST(IntervalMetricsTest, CoverageCountsBoundsAsInside) { EXPECT_THAT(Coverage(kCoveredY, kLo, kHi), IsOkAndHolds(0.5)); }

TEST(IntervalMetricsTest, WinklerScoreHandComputed) {
  // 80%: a = 0.2, 2/a = 10. Widths 2, 0.5, 0, 3; penalties 10*0.5 (below) and 10*1 (above).
  EXPECT_THAT(IntervalScore(kCoveredY, kLo, kHi, 80), IsOkAndHolds(DoubleNear((2 + 5.5 + 0 + 13) / 4, 1e-12)));
  // 95%: 2/a = 40.
  EXPECT_THAT(IntervalScore(kCoveredY, kLo, kHi, 95), IsOkAndHolds(DoubleNear((2 + 20.5 + 0 + 43) / 4, 1e-12)));
}

TEST(IntervalMetricsTest, Errors) {
  EXPECT_THAT(IntervalScore(kCoveredY, kLo, kHi, 0.95), IsOkAndHolds(::testing::_));  // 0.95% is a valid level
  EXPECT_THAT(IntervalScore(kCoveredY, kLo, kHi, 100), StatusIs(StatusCode::kInvalidArgument, "not in (0, 100)"));
  const std::vector<double> y = {1}, lo = {2}, hi = {1};
  EXPECT_THAT(IntervalScore(y, lo, hi, 80), StatusIs(StatusCode::kInvalidArgument, "above upper bound"));
  const std::vector<double> lo2 = {0, 0};
  EXPECT_THAT(Coverage(y, lo2, hi), StatusIs(StatusCode::kInvalidArgument, "lower"));
}

TEST(EvaluateTest, AllMetricsOfAForecast) {
  models::Forecast f;
  f.mean = {110, 180, 300, 5, 999};  // longer than the actuals: truncated
  f.intervals.push_back({80, {100, 205, 290, 0, 0}, {120, 215, 310, 10, 10}});
  const std::vector<double> insample = {90, 100, 95, 105};  // lag-1 scale (10 + 5 + 10) / 3
  ASSERT_OK_AND_ASSIGN(Accuracy a, Evaluate(kActual, f, insample, 1));
  EXPECT_EQ(a.n, 3);
  EXPECT_NEAR(a.mae, 10, 1e-12);
  EXPECT_NEAR(a.smape, (2000.0 / 210 + 4000.0 / 380) / 3, 1e-12);
  EXPECT_NEAR(a.mase_scale, 25.0 / 3, 1e-12);
  EXPECT_NEAR(a.mase, 10 / (25.0 / 3), 1e-12);
  ASSERT_EQ(a.intervals.size(), 1u);
  EXPECT_EQ(a.intervals[0].n, 3);
  EXPECT_NEAR(a.intervals[0].coverage, 2.0 / 3, 1e-12);  // 200 < 205 is outside
  // Widths 20, 10, 20; penalty (2 / 0.2) * (205 - 200) = 50.
  EXPECT_NEAR(a.intervals[0].score, (20 + (10 + 50) + 20) / 3.0, 1e-12);
  EXPECT_TRUE(a.notes.empty());
}

TEST(EvaluateTest, UndefinedMetricsAreNaNWithANote) {
  models::Forecast f;
  f.mean = {1, 2};
  const std::vector<double> y = {0, 2};
  ASSERT_OK_AND_ASSIGN(Accuracy a, Evaluate(y, f, {}, 1));
  EXPECT_TRUE(std::isnan(a.mape));
  EXPECT_TRUE(std::isnan(a.mase));
  EXPECT_THAT(a.notes, ::testing::ElementsAre(HasSubstr("MAPE is undefined"), HasSubstr("no in-sample data")));
  const std::vector<double> longer = {1, 2, 3};
  EXPECT_THAT(Evaluate(longer, f, {}, 1), StatusIs(StatusCode::kInvalidArgument, "2 steps"));
}

}  // namespace
}  // namespace almanac::eval
