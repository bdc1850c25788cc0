#include "models/decompose/decompose.h"

#include <cmath>
#include <map>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/testing/status_matchers.h"
#include "models/testing/golden_csv.h"

namespace almanac::models {
namespace {

using ::almanac::testing::StatusIs;
using testing::CsvRow;
using ::testing::HasSubstr;
using testing::Num;

TEST(DecomposeGoldenTest, SeasonalIndicesMatchRDecompose) {
  const auto series = testing::ReadGoldenSeries("models/theta/series.csv");
  std::map<std::string, std::vector<double>> figures;
  for (const CsvRow& row : testing::ReadGoldenCsv("models/theta/decompose.csv"))
    figures[row.at("series")].push_back(Num(row, "figure"));
  ASSERT_GE(figures.size(), 5u);
  for (const auto& [name, want] : figures) {
    SCOPED_TRACE(name);
    const auto& s = series.at(name);
    ASSERT_OK_AND_ASSIGN(Decomposition d, ClassicalDecompose(s.y, s.period, DecomposeType::kMultiplicative));
    ASSERT_EQ(d.figure.size(), want.size());
    for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(d.figure[i], want[i], 1e-13);
    for (size_t t = 0; t < s.y.size(); ++t) EXPECT_EQ(d.seasonal[t], d.figure[t % want.size()]);
  }
}

TEST(DecomposeGoldenTest, TrendMatchesRDecompose) {
  const auto series = testing::ReadGoldenSeries("models/theta/series.csv");
  std::map<std::string, std::vector<double>> trends;
  for (const CsvRow& row : testing::ReadGoldenCsv("models/theta/decompose_trend.csv"))
    trends[row.at("series")].push_back(Num(row, "trend"));
  for (const auto& [name, want] : trends) {
    SCOPED_TRACE(name);
    const auto& s = series.at(name);
    ASSERT_OK_AND_ASSIGN(Decomposition d, ClassicalDecompose(s.y, s.period, DecomposeType::kMultiplicative));
    ASSERT_EQ(d.trend.size(), want.size());
    for (size_t t = 0; t < want.size(); ++t) {
      if (std::isnan(want[t])) {
        EXPECT_TRUE(std::isnan(d.trend[t])) << t;
      } else {
        EXPECT_NEAR(d.trend[t], want[t], 1e-12 * std::fabs(want[t])) << t;
      }
    }
  }
}

TEST(DecomposeTest, HandComputedQuarterlyExample) {
  // Period 2 (odd filter length 3: 0.25, 0.5, 0.25), additive: y = 10 + (-1, +1) pattern.
  const std::vector<double> y = {9, 11, 9, 11, 9, 11};
  ASSERT_OK_AND_ASSIGN(Decomposition d, ClassicalDecompose(y, 2, DecomposeType::kAdditive));
  EXPECT_TRUE(std::isnan(d.trend.front()));
  EXPECT_TRUE(std::isnan(d.trend.back()));
  for (size_t t = 1; t + 1 < y.size(); ++t) EXPECT_DOUBLE_EQ(d.trend[t], 10.0);
  EXPECT_DOUBLE_EQ(d.figure[0], -1.0);
  EXPECT_DOUBLE_EQ(d.figure[1], 1.0);
  // Period 3 (odd): plain 3-term mean; multiplicative indices average 1.
  const std::vector<double> z = {2, 4, 6, 2, 4, 6, 2, 4, 6};
  ASSERT_OK_AND_ASSIGN(Decomposition e, ClassicalDecompose(z, 3, DecomposeType::kMultiplicative));
  EXPECT_DOUBLE_EQ(e.trend[1], 4.0);
  EXPECT_NEAR(e.figure[0] + e.figure[1] + e.figure[2], 3.0, 1e-15);
  EXPECT_NEAR(e.figure[0], 0.5, 1e-15);
  EXPECT_NEAR(e.figure[2], 1.5, 1e-15);
}

TEST(DecomposeTest, RejectsShortSeriesAndBadPeriods) {
  const std::vector<double> y = {1, 2, 3, 4, 5, 6, 7};
  EXPECT_THAT(ClassicalDecompose(y, 4, DecomposeType::kMultiplicative),
              StatusIs(StatusCode::kInvalidArgument, "two full periods"));
  EXPECT_THAT(ClassicalDecompose(y, 1, DecomposeType::kMultiplicative),
              StatusIs(StatusCode::kInvalidArgument, "period of at least 2"));
}

TEST(AutocorrelationTest, HandComputed) {
  // Mean 2.5, deviations -1.5 -0.5 0.5 1.5: c0 = 5; c1 = 0.75 - 0.25 + 0.75 = 1.25;
  // c2 = (-1.5)(0.5) + (-0.5)(1.5) = -1.5; c3 = (-1.5)(1.5) = -2.25.
  const std::vector<double> y = {1, 2, 3, 4};
  const std::vector<double> r = Autocorrelations(y, 5);
  ASSERT_EQ(r.size(), 5u);
  EXPECT_DOUBLE_EQ(r[0], 0.25);
  EXPECT_DOUBLE_EQ(r[1], -0.3);
  EXPECT_DOUBLE_EQ(r[2], -0.45);
  EXPECT_EQ(r[3], 0.0);  // beyond n - 1
  const std::vector<double> c(6, 3.0);
  for (double v : Autocorrelations(c, 2)) EXPECT_EQ(v, 0.0);
}

TEST(SeasonalityTestTest, MatchesThetafDecisionsAndStatistics) {
  const auto series = testing::ReadGoldenSeries("models/theta/series.csv");
  for (const CsvRow& row : testing::ReadGoldenCsv("models/theta/thetaf_params.csv")) {
    const std::string name = row.at("series");
    SCOPED_TRACE(name);
    const auto& s = series.at(name);
    const SeasonalityTest t = TestSeasonality(s.y, s.period, 2 * s.period + 1);
    EXPECT_EQ(t.seasonal, row.at("seasonal") == "true");
    if (!std::isnan(Num(row, "acf_m"))) {
      EXPECT_NEAR(t.acf_m, Num(row, "acf_m"), 1e-13);
      EXPECT_NEAR(t.threshold, Num(row, "threshold"), 1e-13);
    } else {
      EXPECT_FALSE(t.reason.empty());
    }
  }
}

TEST(SeasonalityTestTest, SkipsWhenTooShortConstantOrNonSeasonal) {
  std::vector<double> y;
  for (int t = 0; t < 24; ++t) y.push_back(10 + (t % 12 == 0 ? 5 : 0));
  EXPECT_FALSE(TestSeasonality(y, 12, 25).seasonal);
  EXPECT_THAT(TestSeasonality(y, 12, 25).reason, HasSubstr("too short"));
  EXPECT_THAT(TestSeasonality(y, 1, 3).reason, HasSubstr("non-seasonal"));
  const std::vector<double> c(40, 2.0);
  EXPECT_THAT(TestSeasonality(c, 4, 9).reason, HasSubstr("constant"));
  // A clean seasonal pattern is detected.
  std::vector<double> s;
  for (int t = 0; t < 48; ++t) s.push_back(100 + 10 * std::sin(2 * M_PI * t / 12.0));
  EXPECT_TRUE(TestSeasonality(s, 12, 25).seasonal);
}

TEST(IsConstantTest, UsesRsRelativeTolerance) {
  EXPECT_TRUE(IsConstant(std::vector<double>{5, 5, 5}));
  EXPECT_TRUE(IsConstant(std::vector<double>{1e6, 1e6 + 1e-3, 1e6}));  // 3e-10 relative
  EXPECT_FALSE(IsConstant(std::vector<double>{1, 1, 1.001}));
  EXPECT_TRUE(IsConstant(std::vector<double>{0, 0, 0}));
  EXPECT_TRUE(IsConstant(std::vector<double>{std::nan(""), 2, 2}));
}

TEST(FillMissingTest, DropsLeadingInterpolatesInteriorRejectsTrailing) {
  std::vector<std::string> notes;
  const double nan = std::nan("");
  ASSERT_OK_AND_ASSIGN(std::vector<double> y, FillMissing(std::vector<double>{nan, 1, nan, nan, 4, 5}, "m", &notes));
  EXPECT_EQ(y, (std::vector<double>{1, 2, 3, 4, 5}));
  EXPECT_THAT(notes, ::testing::ElementsAre(HasSubstr("1 leading missing value dropped"),
                                            HasSubstr("2 missing values filled")));
  EXPECT_THAT(FillMissing(std::vector<double>{1, nan}, "m", &notes),
              StatusIs(StatusCode::kInvalidArgument, "ends with a missing value"));
  EXPECT_THAT(FillMissing(std::vector<double>{nan, nan}, "m", &notes),
              StatusIs(StatusCode::kInvalidArgument, "no observations"));
}

TEST(AdjustSeasonalityTest, FallsBackWithANoteOnNonPositiveData) {
  std::vector<double> y;
  for (int t = 0; t < 48; ++t) y.push_back(10 * std::sin(2 * M_PI * t / 12.0));
  std::vector<std::string> notes;
  ASSERT_OK_AND_ASSIGN(SeasonalAdjustment a, AdjustSeasonality(y, 12, "auto", 25, &notes));
  EXPECT_TRUE(a.test.seasonal);
  EXPECT_FALSE(a.seasonal);
  EXPECT_EQ(a.adjusted, y);
  EXPECT_THAT(notes, ::testing::ElementsAre(HasSubstr("non-positive")));
  EXPECT_EQ(a.Index(5), 1.0);
  EXPECT_THAT(AdjustSeasonality(y, 12, "bogus", 25, &notes), StatusIs(StatusCode::kInvalidArgument, "bogus"));
}

TEST(AdjustSeasonalityTest, AdjustedSeriesTimesIndexIsTheSeries) {
  const auto series = testing::ReadGoldenSeries("models/theta/series.csv");
  const auto& s = series.at("USAccDeaths");
  std::vector<std::string> notes;
  ASSERT_OK_AND_ASSIGN(SeasonalAdjustment a, AdjustSeasonality(s.y, 12, "auto", 25, &notes));
  ASSERT_TRUE(a.seasonal);
  for (size_t t = 0; t < s.y.size(); ++t) EXPECT_NEAR(a.adjusted[t] * a.Index(static_cast<long>(t)), s.y[t], 1e-9);
  EXPECT_TRUE(notes.empty());
}

}  // namespace
}  // namespace almanac::models
