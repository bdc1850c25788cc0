// Unit tests of the mixed-frequency DFM: input errors, the news identity, serialization,
// alignment of monthly and quarterly series (statsmodels comparisons: dfm_golden_test.cc);
// the Kalman smoother's entry mode (used by EM) and mean-only LinearSmoother against the full
// smoother.
#include <cmath>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "almanac/models/nowcast.h"
#include "core/testing/status_matchers.h"
#include "models/dfm/kalman.h"
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

namespace almanac::models::dfm {
namespace {

// A small system shaped like the DFM's: two factors with a VAR(1) and lags, AR(1)
// idiosyncratic states, a sparse Z (each series loads on the factors and its own state).
struct KalmanFixture {
  StateSpace ss;
  Eigen::MatrixXd y;
};

KalmanFixture MakeKalmanFixture() {
  const int k = 4, m = 2 * 2 + k, n = 40;
  std::mt19937_64 rng(7);
  std::normal_distribution<double> z(0, 1);
  KalmanFixture f;
  auto& ss = f.ss;
  ss.Z = Eigen::MatrixXd::Zero(k, m);
  for (int i = 0; i < k; ++i) {
    ss.Z(i, 0) = 0.5 + 0.1 * i;
    ss.Z(i, 1) = (i % 2 == 0) ? 0.3 : -0.4;
    if (i == k - 1) ss.Z(i, 2) = 0.7;  // a lag of the first factor
    ss.Z(i, 4 + i) = 1;
  }
  std::vector<Eigen::Triplet<double>> trip = {{0, 0, 0.6}, {0, 1, 0.1}, {1, 0, -0.2}, {1, 1, 0.4},
                                              {2, 0, 1.0}, {3, 1, 1.0}};
  for (int i = 0; i < k; ++i) trip.emplace_back(4 + i, 4 + i, 0.2 + 0.1 * i);
  ss.T.resize(m, m);
  ss.T.setFromTriplets(trip.begin(), trip.end());
  ss.RQR = Eigen::MatrixXd::Zero(m, m);
  ss.RQR(0, 0) = 1.0;
  ss.RQR(1, 1) = 0.8;
  ss.RQR(0, 1) = ss.RQR(1, 0) = 0.2;
  for (int i = 0; i < k; ++i) ss.RQR(4 + i, 4 + i) = 0.3 + 0.05 * i;
  ss.a0 = Eigen::VectorXd::Zero(m);
  ss.P0 = Eigen::MatrixXd::Identity(m, m);
  f.y.resize(k, n);
  for (int t = 0; t < n; ++t)
    for (int i = 0; i < k; ++i) f.y(i, t) = ((t * 7 + i * 3) % 5 == 0) ? std::nan("") : z(rng);
  return f;
}

TEST(DfmKalmanTest, EntryModeMatchesTheFullCovariances) {
  const auto f = MakeKalmanFixture();
  const int m = static_cast<int>(f.ss.a0.size()), n = static_cast<int>(f.y.cols());
  const auto full = Smooth(f.ss, f.y, {});
  ASSERT_TRUE(full.ok);
  SmootherOptions opt;
  for (int i = 0; i < m; ++i)
    for (int j = 0; j <= i; ++j) opt.cov_entries.emplace_back(i, j);
  for (int i = 0; i < m; ++i)
    for (int j = 0; j < m; ++j)
      if ((i + j) % 3 != 1) opt.lag_entries.emplace_back(i, j);
  const auto part = Smooth(f.ss, f.y, opt);
  ASSERT_TRUE(part.ok);
  EXPECT_DOUBLE_EQ(part.loglik, full.loglik);
  EXPECT_LT((part.a - full.a).cwiseAbs().maxCoeff(), 1e-12);
  ASSERT_EQ(part.V.size(), 1u);
  EXPECT_LT((part.V[0] - full.V[0]).cwiseAbs().maxCoeff(), 1e-12);
  ASSERT_EQ(part.cov_values.size(), static_cast<size_t>(n));
  ASSERT_EQ(part.lag_values.size(), static_cast<size_t>(n - 1));
  EXPECT_TRUE(part.Vlag.empty());
  for (int t = 0; t < n; ++t) {
    for (size_t e = 0; e < opt.cov_entries.size(); ++e) {
      const auto [i, j] = opt.cov_entries[e];
      EXPECT_NEAR(part.cov_values[static_cast<size_t>(t)](static_cast<int>(e)),
                  full.V[static_cast<size_t>(t)](i, j), 1e-12)
          << "V_" << t << "(" << i << "," << j << ")";
    }
    if (t + 1 == n) continue;
    for (size_t e = 0; e < opt.lag_entries.size(); ++e) {
      const auto [i, j] = opt.lag_entries[e];
      EXPECT_NEAR(part.lag_values[static_cast<size_t>(t)](static_cast<int>(e)),
                  full.Vlag[static_cast<size_t>(t)](i, j), 1e-12)
          << "Vlag_" << t << "(" << i << "," << j << ")";
    }
  }
}

TEST(DfmKalmanTest, LinearSmootherMatchesTheFullSmootherForUnitData) {
  const auto f = MakeKalmanFixture();
  const int m = static_cast<int>(f.ss.a0.size()), n = static_cast<int>(f.y.cols());
  LinearSmoother lin(f.ss, f.y);
  ASSERT_TRUE(lin.ok());
  const Eigen::VectorXd zero = Eigen::VectorXd::Zero(m);
  StateSpace ss0 = f.ss;
  ss0.a0 = zero;
  // A unit datum late in the sample (the pass starts there) and one early, each read at a
  // month before and after it.
  for (const auto& [i, s] : std::vector<std::pair<int, int>>{{1, n - 2}, {0, 3}}) {
    ASSERT_FALSE(std::isnan(f.y(i, s)));
    Eigen::MatrixXd unit = f.y;
    for (int t = 0; t < n; ++t)
      for (int r = 0; r < unit.rows(); ++r)
        if (!std::isnan(unit(r, t))) unit(r, t) = 0;
    unit(i, s) = 1;
    const auto full = Smooth(ss0, unit, {.state_cov = false, .lag_cov = false});
    for (int t : {1, s - 1, s, n - 1}) {
      const Eigen::VectorXd got = lin.StateAt(unit, zero, t);
      EXPECT_LT((got - full.a.col(t)).cwiseAbs().maxCoeff(), 1e-12) << "unit at " << s << ", state at " << t;
    }
  }
}

}  // namespace
}  // namespace almanac::models::dfm
