// STL, KPSS and the differencing rules against R (urca 1.3, stats::stl, forecast 8.20).
#include "models/arima/unit_root_tests.h"

#include <cmath>

#include <gtest/gtest.h>

#include "models/arima/goldens_test_util.h"
#include "models/arima/stl.h"

namespace almanac::models::arima {
namespace {

using testing::Goldens;
using testing::GNum;
using testing::GVec;
using testing::MaxRelDiff;
using testing::Scale;
using testing::Series;

TEST(Stl, MatchesRStl) {
  for (const auto& c : Goldens()["stl"]) {
    auto s = Series(c["name"].get<std::string>());
    auto fit = Stl(s.y, s.m);
    ASSERT_TRUE(fit.ok()) << fit.status().ToString();
    const double scale = Scale(s.y);
    EXPECT_LT(MaxRelDiff(fit->seasonal, GVec(c["seasonal"]), scale), 1e-12) << c["name"];
    EXPECT_LT(MaxRelDiff(fit->trend, GVec(c["trend"]), scale), 1e-12) << c["name"];
  }
}

TEST(Stl, RejectsShortOrMissingData) {
  EXPECT_FALSE(Stl(std::vector<double>(8, 1.0), 4).ok());
  std::vector<double> y(20, 1.0);
  y[3] = NAN;
  EXPECT_FALSE(Stl(y, 4).ok());
}

TEST(UnitRootTests, MatchR) {
  for (const auto& c : Goldens()["tests"]) {
    const std::string name = c["name"].get<std::string>();
    auto s = Series(name);
    std::vector<double> x;
    for (double v : s.y)
      if (!std::isnan(v)) x.push_back(v);
    const int lags = static_cast<int>(std::trunc(3 * std::sqrt(static_cast<double>(x.size())) / 13));
    EXPECT_NEAR(KpssStatistic(x, lags), GNum(c["kpss"]), 1e-10 * GNum(c["kpss"])) << name;
    std::vector<double> dx;
    for (size_t i = 1; i < x.size(); ++i) dx.push_back(x[i] - x[i - 1]);
    const int dlags = static_cast<int>(std::trunc(3 * std::sqrt(static_cast<double>(dx.size())) / 13));
    EXPECT_NEAR(KpssStatistic(dx, dlags), GNum(c["kpss_diff1"]), 1e-10 * GNum(c["kpss_diff1"])) << name;
    EXPECT_EQ(NDiffs(s.y), static_cast<int>(GNum(c["ndiffs"]))) << name;
    if (s.m > 1) {
      EXPECT_EQ(NSDiffs(s.y, s.m), static_cast<int>(GNum(c["nsdiffs"]))) << name;
    }
    const double strength = GNum(c["seas_strength"]);
    if (!std::isnan(strength)) {
      // R fills missing values with na.interp() (seasonal); almanac interpolates linearly,
      // so the series with missing values agrees less closely.
      const bool has_na = x.size() != s.y.size();
      EXPECT_NEAR(SeasonalStrength(s.y, s.m), strength, has_na ? 2e-2 : 1e-12) << name;
    }
  }
}

TEST(UnitRootTests, KpssPValueInterpolatesTheTable) {
  EXPECT_DOUBLE_EQ(KpssPValue(0.1), 0.10);
  EXPECT_DOUBLE_EQ(KpssPValue(0.463), 0.05);
  EXPECT_DOUBLE_EQ(KpssPValue(2.0), 0.01);
  EXPECT_NEAR(KpssPValue((0.463 + 0.574) / 2), 0.0375, 1e-12);
}

TEST(UnitRootTests, IsConstantFollowsAllEqual) {
  EXPECT_TRUE(IsConstant(std::vector<double>{3, 3, 3}));
  EXPECT_TRUE(IsConstant(std::vector<double>{1e6, 1e6 + 1e-4}));  // relative difference 1e-10
  EXPECT_FALSE(IsConstant(std::vector<double>{1, 1.001}));
  EXPECT_FALSE(IsConstant(std::vector<double>{1, NAN, 1}));  // NA positions differ
  EXPECT_TRUE(IsConstant(std::vector<double>{0, 1e-9}));     // absolute scale below tolerance
}

}  // namespace
}  // namespace almanac::models::arima
