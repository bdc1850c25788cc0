// Unit tests of the mixed-frequency DFM: input errors, the news identity, serialization,
// alignment of monthly and quarterly series (statsmodels comparisons: dfm_golden_test.cc).
#include <cmath>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "almanac/models/nowcast.h"
#include "core/testing/status_matchers.h"
#include "models/dfm/testing/dfm_testing.h"

namespace almanac::models {
namespace {

using ::almanac::testing::IsOk;
using ::almanac::testing::StatusIs;
using ::testing::HasSubstr;
using dfm_testing::GoldenOptions;
using dfm_testing::ReadDfmCsv;

DfmOptions Quick() {
  DfmOptions o = GoldenOptions();
  o.max_iterations = 5;
  return o;
}

TEST(DfmTest, RejectsBadInput) {
  const auto good = ReadDfmCsv("data.csv");
  {
    auto d = good;
    d.values[2][10] = std::numeric_limits<double>::infinity();
    EXPECT_THAT(DynamicFactorModel::Fit(d, Quick()).status(),
                StatusIs(StatusCode::kInvalidArgument, "'emp' is infinite in 2012-11"));
  }
  {
    auto d = good;
    for (auto& v : d.values[4]) v = std::nan("");
    EXPECT_THAT(DynamicFactorModel::Fit(d, Quick()).status(),
                StatusIs(StatusCode::kInvalidArgument, "'cpi' has no observations"));
  }
  {
    auto d = good;
    for (auto& v : d.values[5])
      if (!std::isnan(v)) v = 1.0;
    EXPECT_THAT(DynamicFactorModel::Fit(d, Quick()).status(),
                StatusIs(StatusCode::kInvalidArgument, "'ppi' is constant"));
  }
  {
    auto d = good;
    d.values[8][1] = 1.0;  // gdp in February
    EXPECT_THAT(DynamicFactorModel::Fit(d, Quick()).status(),
                StatusIs(StatusCode::kInvalidArgument, "not the last month of a quarter"));
  }
  {
    auto d = good;
    for (auto& v : d.values) v.resize(20);
    EXPECT_THAT(DynamicFactorModel::Fit(d, Quick()).status(),
                StatusIs(StatusCode::kInvalidArgument, "at least 24 are needed"));
  }
  {
    DfmOptions o = Quick();
    o.blocks[1].variables.push_back("wages");
    EXPECT_THAT(DynamicFactorModel::Fit(good, o).status(),
                StatusIs(StatusCode::kInvalidArgument, "unknown variable 'wages'"));
  }
  {
    DfmOptions o = Quick();
    o.blocks = {DfmBlock{"real", 1, 1, {"ip", "gdp"}}};
    EXPECT_THAT(DynamicFactorModel::Fit(good, o).status(),
                StatusIs(StatusCode::kInvalidArgument, "'sales' loads on no factor block"));
  }
  {
    DfmOptions o = Quick();
    o.blocks[1].name = "global";
    EXPECT_THAT(DynamicFactorModel::Fit(good, o).status(), StatusIs(StatusCode::kInvalidArgument, "repeated"));
  }
  {
    DfmOptions o = Quick();
    o.blocks[0].factors = 9;
    EXPECT_THAT(DynamicFactorModel::Fit(good, o).status(),
                StatusIs(StatusCode::kInvalidArgument, "cannot be identified from 8 monthly"));
  }
  {
    DfmOptions o = Quick();
    o.blocks[0].order = 0;
    EXPECT_THAT(DynamicFactorModel::Fit(good, o).status(), StatusIs(StatusCode::kInvalidArgument, "order"));
  }
}

TEST(DfmTest, ReportsNonConvergence) {
  const auto data = ReadDfmCsv("data.csv");
  DfmOptions o = GoldenOptions();
  o.max_iterations = 3;
  auto m = DynamicFactorModel::Fit(data, o);
  ASSERT_THAT(m.status(), IsOk());
  EXPECT_FALSE(m->report().converged);
  EXPECT_EQ(m->report().iterations, 3);
  ASSERT_FALSE(m->report().notes.empty());
  EXPECT_THAT(m->report().notes.back(), HasSubstr("did not converge in 3 iterations"));
  // EM never lowers the likelihood.
  const auto& path = m->report().loglik_path;
  for (size_t i = 1; i < path.size(); ++i) EXPECT_GE(path[i], path[i - 1] - 1e-8);
}

TEST(DfmTest, NewsAndRevisionsSumToTheChangeOfTheNowcast) {
  const auto data = ReadDfmCsv("data.csv");
  const auto old = ReadDfmCsv("data_old.csv");
  DfmOptions o = GoldenOptions();
  o.max_iterations = 5;
  auto m = DynamicFactorModel::Fit(data, o);
  ASSERT_THAT(m.status(), IsOk());
  const Period q4 = Period::Parse("2023Q4").value();
  auto news = m->News(old, data, "gdp", q4);
  ASSERT_THAT(news.status(), IsOk());
  double sum = news->revision_impact;
  for (const auto& item : news->items) {
    sum += item.impact;
    EXPECT_NEAR(item.impact, item.news * item.weight, 1e-12 * std::max(1.0, std::fabs(item.impact)));
    EXPECT_NEAR(item.news, item.observed - item.forecast, 1e-12);
  }
  EXPECT_NEAR(sum, news->new_value - news->old_value, 1e-10);
  EXPECT_EQ(news->items.size(), 7u);
  EXPECT_THAT(news->revised, ::testing::UnorderedElementsAre("ip@2023-08", "gdp@2023-09"));
  // The two ends are the nowcasts of each vintage.
  auto now_old = m->NowcastOf(old, "gdp", q4);
  auto now_new = m->NowcastOf(data, "gdp", q4);
  ASSERT_THAT(now_old.status(), IsOk());
  ASSERT_THAT(now_new.status(), IsOk());
  EXPECT_NEAR(news->old_value, now_old->value, 1e-10);
  EXPECT_NEAR(news->new_value, now_new->value, 1e-10);
  EXPECT_GT(now_new->std_error, 0);

  // No change: no news, no revision.
  auto same = m->News(data, data, "gdp", q4);
  ASSERT_THAT(same.status(), IsOk());
  EXPECT_TRUE(same->items.empty());
  EXPECT_EQ(same->revision_impact, 0);
  EXPECT_THAT(m->News(old, data, "wages", q4).status(), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(m->News(old, data, "gdp", Period::Parse("2023-12").value()).status(),
              StatusIs(StatusCode::kInvalidArgument, "must be a quarter"));
}

TEST(DfmTest, NowcastBeyondTheDataExtendsTheGrid) {
  const auto data = ReadDfmCsv("data.csv");
  DfmOptions o = GoldenOptions();
  o.max_iterations = 5;
  auto m = DynamicFactorModel::Fit(data, o);
  ASSERT_THAT(m.status(), IsOk());
  auto next = m->NowcastOf(data, "gdp", Period::Parse("2024Q2").value());
  ASSERT_THAT(next.status(), IsOk());
  auto now = m->NowcastOf(data, "gdp", Period::Parse("2023Q4").value());
  ASSERT_THAT(now.status(), IsOk());
  // Further ahead: closer to the mean and less certain.
  EXPECT_GT(next->std_error, now->std_error);
  // An observed quarter is reproduced exactly (no measurement error).
  auto q3 = m->NowcastOf(data, "gdp", Period::Parse("2023Q3").value());
  ASSERT_THAT(q3.status(), IsOk());
  EXPECT_NEAR(q3->value, data.values[8][140], 1e-8);
  EXPECT_NEAR(q3->std_error, 0, 1e-6);
}

TEST(DfmTest, JsonRoundTripGivesTheSameNowcasts) {
  const auto data = ReadDfmCsv("data.csv");
  const auto old = ReadDfmCsv("data_old.csv");
  DfmOptions o = GoldenOptions();
  o.max_iterations = 5;
  auto m = DynamicFactorModel::Fit(data, o);
  ASSERT_THAT(m.status(), IsOk());
  const Json j = m->ToJson();
  auto back = DynamicFactorModel::FromJson(ParseJson(CompactJson(j)).value());
  ASSERT_THAT(back.status(), IsOk());
  EXPECT_EQ(CompactJson(back->ToJson()), CompactJson(j));
  const Period q4 = Period::Parse("2023Q4").value();
  EXPECT_EQ(back->NowcastOf(data, "gdp", q4)->value, m->NowcastOf(data, "gdp", q4)->value);
  EXPECT_EQ(back->News(old, data, "gdp", q4)->news_impact, m->News(old, data, "gdp", q4)->news_impact);
  Json broken = j;
  broken["params"]["loadings"] = Json::array();
  EXPECT_THAT(DynamicFactorModel::FromJson(broken).status(), StatusIs(StatusCode::kDataLoss));
  EXPECT_THAT(DynamicFactorModel::FromJson(Json::object()).status(), StatusIs(StatusCode::kDataLoss));
}

TEST(DfmTest, AlignsMonthlyAndQuarterlySeries) {
  auto m = TimeSeries::FromValues(Period::Parse("2020-02").value(), {1, 2, 3, 4, 5});
  auto q = TimeSeries::FromValues(Period::Parse("2019Q4").value(), {10, 11});
  ASSERT_THAT(m.status(), IsOk());
  ASSERT_THAT(q.status(), IsOk());
  auto d = AlignMixedFrequency({"x", "gdp"}, {*m, *q}, Period::Parse("2020Q3").value());
  ASSERT_THAT(d.status(), IsOk());
  EXPECT_EQ(d->start.ToString(), "2019-10");
  ASSERT_EQ(d->size(), 12);  // 2019-10 .. 2020-09
  EXPECT_EQ(d->quarterly, (std::vector<bool>{false, true}));
  EXPECT_EQ(d->values[0][4], 1);
  EXPECT_EQ(d->values[1][2], 10);  // 2019Q4 -> 2019-12
  EXPECT_EQ(d->values[1][5], 11);  // 2020Q1 -> 2020-03
  EXPECT_TRUE(std::isnan(d->values[1][3]));
  auto a = TimeSeries::FromValues(Period::Parse("2019").value(), {1, 2});
  EXPECT_THAT(AlignMixedFrequency({"x", "y"}, {*m, *a}).status(),
              StatusIs(StatusCode::kInvalidArgument, "only monthly and quarterly"));
  EXPECT_THAT(AlignMixedFrequency({"x", "x"}, {*m, *m}).status(),
              StatusIs(StatusCode::kInvalidArgument, "repeated"));
}

}  // namespace
}  // namespace almanac::models
