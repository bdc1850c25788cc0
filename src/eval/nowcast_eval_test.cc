// Tests of the real-time nowcast evaluation (issue 25; almanac/eval/nowcast_eval.h): the AR(2)
// benchmark against closed forms, the random walk and outcomes against a hand-written release
// calendar, the accuracy and Diebold-Mariano numbers against the points, the DM sign, and the
// errors.
#include "almanac/eval/nowcast_eval.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/testing/status_matchers.h"

namespace almanac::eval {
namespace {

using ::almanac::testing::IsOk;
using ::almanac::testing::StatusIs;

constexpr double kNan = std::numeric_limits<double>::quiet_NaN();

TEST(Ar2Test, RecoversAnExactRecursionAndForecastsItsClosedForm) {
  // y_t = 1 + 0.5 y_{t-1} - 0.3 y_{t-2}, no noise: OLS fits it exactly.
  std::vector<double> y = {2, -1};
  for (int t = 2; t < 12; ++t) y.push_back(1 + 0.5 * y[t - 1] - 0.3 * y[t - 2]);
  auto fit = FitAr2(y);
  ASSERT_THAT(fit, IsOk());
  EXPECT_NEAR(fit->c, 1, 1e-10);
  EXPECT_NEAR(fit->a1, 0.5, 1e-10);
  EXPECT_NEAR(fit->a2, -0.3, 1e-10);
  EXPECT_EQ(fit->n, 10);
  // Two steps by hand: y12 = 1 + .5 y11 - .3 y10, y13 = 1 + .5 y12 - .3 y11.
  const double y12 = 1 + 0.5 * y[11] - 0.3 * y[10];
  const double y13 = 1 + 0.5 * y12 - 0.3 * y[11];
  auto f1 = Ar2Forecast(*fit, y, 1);
  auto f2 = Ar2Forecast(*fit, y, 2);
  ASSERT_THAT(f1, IsOk());
  ASSERT_THAT(f2, IsOk());
  EXPECT_NEAR(*f1, y12, 1e-10);
  EXPECT_NEAR(*f2, y13, 1e-10);
}

TEST(Ar2Test, HandComputedLeastSquaresWithAGap) {
  // y = 0 1 0 3 NaN 2 1 4 0 5: the equations at t = 2, 3, 7, 8, 9 (those whose three values are
  // observed), rows (1, y_{t-1}, y_{t-2}) -> y_t:
  //   (1, 1, 0) -> 0, (1, 0, 1) -> 3, (1, 1, 2) -> 4, (1, 4, 1) -> 0, (1, 0, 4) -> 5.
  // X'X = [[5,6,8],[6,18,6],[8,6,22]], X'y = [12,4,31]; solved in fractions by hand:
  // c = 53/36, a1 = -133/216, a2 = 25/24. One step from (y8, y9) = (0, 5): c + 5 a1 = -347/216.
  const std::vector<double> y = {0, 1, 0, 3, kNan, 2, 1, 4, 0, 5};
  auto fit = FitAr2(y);
  ASSERT_THAT(fit, IsOk());
  EXPECT_EQ(fit->n, 5);
  EXPECT_NEAR(fit->c, 53.0 / 36, 1e-12);
  EXPECT_NEAR(fit->a1, -133.0 / 216, 1e-12);
  EXPECT_NEAR(fit->a2, 25.0 / 24, 1e-12);
  EXPECT_NEAR(Ar2Forecast(*fit, y, 1).value(), -347.0 / 216, 1e-12);
}

TEST(Ar2Test, Errors) {
  EXPECT_THAT(FitAr2(std::vector<double>{1, 2, 3, 4, 5}), StatusIs(StatusCode::kInvalidArgument, "at least 4"));
  EXPECT_THAT(FitAr2(std::vector<double>(10, 2.0)), StatusIs(StatusCode::kInvalidArgument, "singular"));
  const Ar2Fit fit{.c = 1, .a1 = 0.5, .a2 = 0.1, .n = 5};
  EXPECT_THAT(Ar2Forecast(fit, std::vector<double>{1, kNan}, 1), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(Ar2Forecast(fit, std::vector<double>{1, 2}, 0), StatusIs(StatusCode::kInvalidArgument));
}

// A small world with a known release calendar. Monthly grid 2010-01..2021-12: a factor
// f_t = 0.8 f_{t-1} + u_t; indicators a = f + 0.3 e, b = 0.8 f + 0.3 e; the quarterly target
// y = (f_t + 2 f_{t-1} + 3 f_{t-2} + 2 f_{t-3} + f_{t-4}) / 3 + 0.1 e in each quarter's last
// month. Releases: an indicator's month 15 days after the month ends; the target's quarter 28
// days after the quarter ends as final + 0.5, revised to the final value 58 days after.
class NowcastWorld {
 public:
  NowcastWorld() {
    uint64_t state = 25;
    auto normal = [&state] {  // Box-Muller on a 64-bit LCG: deterministic everywhere
      auto uniform = [&state] {
        state = state * 6364136223846793005ULL + 1442695040888963407ULL;
        return (static_cast<double>(state >> 11) + 0.5) / 9007199254740992.0;
      };
      const double u1 = uniform(), u2 = uniform();
      return std::sqrt(-2 * std::log(u1)) * std::cos(6.283185307179586 * u2);
    };
    std::vector<double> f(kMonths);
    for (size_t t = 0; t < kMonths; ++t) f[t] = (t > 0 ? 0.8 * f[t - 1] : 0) + normal();
    a_.resize(kMonths);
    b_.resize(kMonths);
    y_.assign(kMonths, kNan);
    for (size_t t = 0; t < kMonths; ++t) {
      a_[t] = f[t] + 0.3 * normal();
      b_[t] = 0.8 * f[t] + 0.3 * normal();
      if (t % 3 == 2 && t >= 5)
        y_[t] = (f[t] + 2 * f[t - 1] + 3 * f[t - 2] + 2 * f[t - 3] + f[t - 4]) / 3 + 0.1 * normal();
    }
    for (size_t t = 0; t < kMonths; ++t) {
      dates_.push_back(Month(t).EndDate() + 15);
      if (!std::isnan(y_[t])) {
        target_dates_.push_back(Month(t).EndDate() + 28);
        target_dates_.push_back(Month(t).EndDate() + 58);
      }
    }
    dates_.insert(dates_.end(), target_dates_.begin(), target_dates_.end());
    std::sort(dates_.begin(), dates_.end());
    dates_.erase(std::unique(dates_.begin(), dates_.end()), dates_.end());
    std::sort(target_dates_.begin(), target_dates_.end());
  }

  static Period Month(size_t t) { return Period::Parse("2010-01").value() + static_cast<int64_t>(t); }

  // The target of `quarter` as known on `as_of` (nullopt: final), NaN when not published.
  double Target(Period quarter, std::optional<Date> as_of) const {
    const size_t t = static_cast<size_t>(quarter.Convert(Frequency::kMonthly, Anchor::kEnd).ordinal() -
                                         Month(0).ordinal());
    if (!as_of) return y_[t];
    const Date end = quarter.EndDate();
    if (end + 28 > *as_of) return kNan;
    return end + 58 <= *as_of ? y_[t] : y_[t] + 0.5;
  }

  models::MixedFrequencyData Read(std::optional<Date> as_of) const {
    models::MixedFrequencyData d;
    d.names = {"a", "b", "y"};
    d.quarterly = {false, false, true};
    d.start = Month(0);
    d.values.assign(3, std::vector<double>(kMonths, kNan));
    for (size_t t = 0; t < kMonths; ++t) {
      const bool known = !as_of || Month(t).EndDate() + 15 <= *as_of;
      if (known) {
        d.values[0][t] = a_[t];
        d.values[1][t] = b_[t];
      }
      if (!std::isnan(y_[t])) d.values[2][t] = Target(Month(t).Convert(Frequency::kQuarterly), as_of);
    }
    return d;
  }

  NowcastVintages Vintages() const {
    return {.read = [this](std::optional<Date> d) -> Result<models::MixedFrequencyData> { return Read(d); },
            .release_dates = dates_,
            .target_release_dates = target_dates_};
  }

  static NowcastEvalSettings Settings(const char* from, const char* to) {
    NowcastEvalSettings s;
    s.target = "y";
    s.from = Date::Parse(from).value();
    s.to = Date::Parse(to).value();
    s.refit = NowcastRefit::kOnce;
    s.dfm.blocks = {{"global", 1, 1, {}}};
    s.dfm.max_iterations = 30;
    return s;
  }

 private:
  static constexpr size_t kMonths = 144;
  std::vector<double> a_, b_, y_;
  std::vector<Date> dates_, target_dates_;
};

double Rmse(const std::vector<double>& e) {
  double s = 0;
  for (double x : e) s += x * x;
  return std::sqrt(s / static_cast<double>(e.size()));
}

TEST(NowcastEvaluationTest, RandomWalkAr2OutcomesAndAccuracyFollowTheReleaseCalendar) {
  const NowcastWorld world;
  NowcastEvalSettings s = NowcastWorld::Settings("2019-01-01", "2019-12-31");
  std::vector<Date> progress;
  s.progress = [&](int, int, Date d) { progress.push_back(d); };
  auto r = EvaluateNowcasts(world.Vintages(), s);
  ASSERT_THAT(r, IsOk());
  ASSERT_EQ(r->points.size(), 12u);
  EXPECT_EQ(progress.size(), 13u);  // before each date and once at the end
  EXPECT_EQ(r->dm_horizon, 3);      // three month ends nowcast each quarter

  std::vector<double> e_dfm, e_rw, e_ar2;
  for (size_t i = 0; i < r->points.size(); ++i) {
    const auto& p = r->points[i];
    SCOPED_TRACE(p.date.ToString());
    EXPECT_EQ(p.date, NowcastWorld::Month(108 + i).EndDate());  // 2019-01 is month 108
    EXPECT_EQ(p.quarter, NowcastWorld::Month(108 + i).Convert(Frequency::kQuarterly));
    EXPECT_EQ(p.month_in_quarter, static_cast<int>(i % 3) + 1);
    // The previous quarter is published 28 days after its end: by the end of month 1.
    EXPECT_EQ(p.last_known, p.quarter - 1);
    // Month 1: the first release (final + 0.5); months 2 and 3: the final value (58 days).
    const double prev_final = world.Target(p.quarter - 1, std::nullopt);
    EXPECT_DOUBLE_EQ(p.rw, p.month_in_quarter == 1 ? prev_final + 0.5 : prev_final);
    EXPECT_DOUBLE_EQ(p.outcome, world.Target(p.quarter, std::nullopt));
    // The AR(2) on the target as known then.
    std::vector<double> known;
    for (Period q = Period::Parse("2010Q2").value(); q <= p.last_known; q += 1) known.push_back(world.Target(q, p.date));
    EXPECT_DOUBLE_EQ(p.ar2, Ar2Forecast(FitAr2(known).value(), known, 1).value());
    EXPECT_TRUE(std::isfinite(p.dfm));
    EXPECT_GT(p.dfm_std_error, 0);
    e_dfm.push_back(p.outcome - p.dfm);
    e_rw.push_back(p.outcome - p.rw);
    e_ar2.push_back(p.outcome - p.ar2);
  }
  ASSERT_EQ(r->accuracy.size(), 3u);
  EXPECT_EQ(r->accuracy[0].method, "dfm");
  EXPECT_NEAR(r->accuracy[0].rmse, Rmse(e_dfm), 1e-12);
  EXPECT_NEAR(r->accuracy[1].rmse, Rmse(e_rw), 1e-12);
  EXPECT_NEAR(r->accuracy[2].rmse, Rmse(e_ar2), 1e-12);
  double mae_rw = 0;
  for (double e : e_rw) mae_rw += std::abs(e) / 12;
  EXPECT_NEAR(r->accuracy[1].mae, mae_rw, 1e-12);
  // Month 1 of the random walk: the four first-release errors.
  EXPECT_EQ(r->accuracy[1].n_by_month[0], 4);
  EXPECT_NEAR(r->accuracy[1].rmse_by_month[0], Rmse({e_rw[0], e_rw[3], e_rw[6], e_rw[9]}), 1e-12);

  // DM sign: the factor drives the target, so the DFM beats the random walk; d = e_dfm^2 - e_rw^2
  // has a negative mean and the statistic is negative.
  ASSERT_EQ(r->tests.size(), 2u);
  const auto& vs_rw = r->tests[0];
  EXPECT_EQ(vs_rw.benchmark, "rw");
  ASSERT_TRUE(vs_rw.dm.has_value()) << vs_rw.status.message();
  double mean_d = 0;
  for (size_t i = 0; i < 12; ++i) mean_d += (e_dfm[i] * e_dfm[i] - e_rw[i] * e_rw[i]) / 12;
  EXPECT_NEAR(vs_rw.dm->mean_loss_difference, mean_d, 1e-12);
  EXPECT_LT(mean_d, 0);
  EXPECT_LT(vs_rw.dm->statistic, 0);
  EXPECT_NEAR(vs_rw.relative_rmse, Rmse(e_dfm) / Rmse(e_rw), 1e-12);
  EXPECT_LT(vs_rw.relative_rmse, 1);
  // The same test as eval::DieboldMariano on the errors, horizon 3.
  auto direct = DieboldMariano(e_dfm, e_rw, 3);
  ASSERT_THAT(direct, IsOk());
  EXPECT_DOUBLE_EQ(vs_rw.dm->statistic, direct->statistic);
  EXPECT_DOUBLE_EQ(vs_rw.dm->pvalue, direct->pvalue);
  // Swapping the roles flips the sign.
  EXPECT_DOUBLE_EQ(DieboldMariano(e_rw, e_dfm, 3)->statistic, -direct->statistic);

  const Json j = NowcastEvaluationJson(*r);
  EXPECT_EQ(j["points"].size(), 12u);
  EXPECT_EQ(j["tests"][0]["benchmark"], "rw");
  EXPECT_EQ(j["mode"], "real-time");
  EXPECT_EQ(j["outcome"], "latest");
}

TEST(NowcastEvaluationTest, PseudoRealTimeUsesLatestValuesAndFirstReleaseOutcomes) {
  const NowcastWorld world;
  NowcastEvalSettings s = NowcastWorld::Settings("2019-01-01", "2019-03-31");
  s.mode = NowcastDataMode::kPseudoRealTime;
  s.outcome = NowcastOutcome::kFirstRelease;
  auto r = EvaluateNowcasts(world.Vintages(), s);
  ASSERT_THAT(r, IsOk());
  ASSERT_EQ(r->points.size(), 3u);
  for (const auto& p : r->points) {
    // Same publication pattern (2018Q4 known), but its latest (final) value.
    EXPECT_EQ(p.last_known, Period::Parse("2018Q4").value());
    EXPECT_DOUBLE_EQ(p.rw, world.Target(p.last_known, std::nullopt));
    // The first release of 2019Q1: final + 0.5.
    EXPECT_DOUBLE_EQ(p.outcome, world.Target(p.quarter, std::nullopt) + 0.5);
  }
}

TEST(NowcastEvaluationTest, EveryReleaseEvaluatesOnEachVintageDate) {
  const NowcastWorld world;
  NowcastEvalSettings s = NowcastWorld::Settings("2019-01-01", "2019-02-28");
  s.every = NowcastSchedule::kRelease;
  auto r = EvaluateNowcasts(world.Vintages(), s);
  ASSERT_THAT(r, IsOk());
  // Indicator releases 2019-01-15 (Dec), 2019-02-15 (Jan); target 2019-01-28 (2018Q4 first),
  // 2019-02-27 (2018Q4 final).
  std::vector<std::string> dates;
  for (const auto& p : r->points) dates.push_back(p.date.ToString());
  EXPECT_THAT(dates, ::testing::ElementsAre("2019-01-15", "2019-01-28", "2019-02-15", "2019-02-27"));
  // On 2019-01-15 the last published quarter is 2018Q3: the AR(2) forecasts two steps.
  EXPECT_EQ(r->points[0].last_known, Period::Parse("2018Q3").value());
  EXPECT_DOUBLE_EQ(r->points[0].rw, world.Target(Period::Parse("2018Q3").value(), std::nullopt));
  EXPECT_EQ(r->dm_horizon, 3);  // four dates in 2019Q1, capped at n - 1
}

TEST(NowcastEvaluationTest, RefitEveryReestimatesAtEachDate) {
  const NowcastWorld world;
  NowcastEvalSettings once = NowcastWorld::Settings("2019-01-01", "2019-02-28");
  once.dfm.max_iterations = 5;
  NowcastEvalSettings every = once;
  every.refit = NowcastRefit::kEvery;
  auto a = EvaluateNowcasts(world.Vintages(), once);
  auto b = EvaluateNowcasts(world.Vintages(), every);
  ASSERT_THAT(a, IsOk());
  ASSERT_THAT(b, IsOk());
  // The first date fits the same model; the second refits on more data.
  EXPECT_DOUBLE_EQ(a->points[0].dfm, b->points[0].dfm);
  EXPECT_NE(a->points[1].dfm, b->points[1].dfm);
  // Two dates: too few for the Diebold-Mariano test, which is reported, not fatal.
  EXPECT_FALSE(a->tests[0].dm.has_value());
  EXPECT_THAT(a->tests[0].status, StatusIs(StatusCode::kInvalidArgument));
}

TEST(NowcastEvaluationTest, Errors) {
  const NowcastWorld world;
  auto run = [&](NowcastEvalSettings s, NowcastVintages v) { return EvaluateNowcasts(v, s).status(); };
  // The window.
  EXPECT_THAT(run(NowcastWorld::Settings("2019-03-01", "2019-01-01"), world.Vintages()),
              StatusIs(StatusCode::kInvalidArgument, "--from 2019-03-01 is after --to 2019-01-01"));
  EXPECT_THAT(run(NowcastWorld::Settings("2019-01-05", "2019-01-20"), world.Vintages()),
              StatusIs(StatusCode::kInvalidArgument, "no evaluation date between 2019-01-05 and 2019-01-20"));
  // Too few vintages.
  NowcastVintages one = world.Vintages();
  one.release_dates = {one.release_dates.back()};
  EXPECT_THAT(run(NowcastWorld::Settings("2019-01-01", "2019-03-31"), one),
              StatusIs(StatusCode::kFailedPrecondition, "too few vintages"));
  EXPECT_THAT(run(NowcastWorld::Settings("2009-01-01", "2009-03-31"), world.Vintages()),
              StatusIs(StatusCode::kFailedPrecondition, "before the first vintage (2010-02-15)"));
  // A quarter whose outcome is not published: the grid ends in 2021-12, 2022Q1 is never.
  EXPECT_THAT(run(NowcastWorld::Settings("2022-01-01", "2022-01-31"), world.Vintages()),
              StatusIs(StatusCode::kFailedPrecondition, "no outcome yet: y 2022Q1"));
  // A target that is not in the data, or not quarterly.
  NowcastEvalSettings bad = NowcastWorld::Settings("2019-01-01", "2019-03-31");
  bad.target = "gdp";
  EXPECT_THAT(run(bad, world.Vintages()), StatusIs(StatusCode::kInvalidArgument, "the target gdp is not in the data"));
  bad.target = "a";
  EXPECT_THAT(run(bad, world.Vintages()), StatusIs(StatusCode::kInvalidArgument, "not quarterly"));
}

}  // namespace
}  // namespace almanac::eval
