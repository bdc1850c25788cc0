// Analytic checks of VaR/ES, Euler contributions and VaR backtests (issue 24): hand-made
// samples, closed forms written out from textbook formulas, hand-computed likelihood ratios.
#include <cmath>
#include <limits>
#include <numbers>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "almanac/risk.h"

#include "core/testing/status_matchers.h"

namespace almanac::risk {
namespace {

using ::almanac::testing::IsOkAndHolds;
using ::almanac::testing::StatusIs;

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// --------------------------------------------------------------------------- historical

TEST(TailCountTest, CeilingWithIntegersExact) {
  EXPECT_THAT(TailCount(1000, 0.99), IsOkAndHolds(10));  // 1000 * (1 - 0.99) = 10.000000000000009
  EXPECT_THAT(TailCount(250, 0.99), IsOkAndHolds(3));    // 2.5 -> 3
  EXPECT_THAT(TailCount(20, 0.95), IsOkAndHolds(1));
  EXPECT_THAT(TailCount(10, 0.99), IsOkAndHolds(1));     // 0.1 -> 1
  EXPECT_THAT(TailCount(100, 0.9), IsOkAndHolds(10));
  EXPECT_THAT(TailCount(0, 0.99), StatusIs(StatusCode::kInvalidArgument, "empty"));
  EXPECT_THAT(TailCount(10, 1.0), StatusIs(StatusCode::kInvalidArgument, "level"));
  EXPECT_THAT(TailCount(10, 0.0), StatusIs(StatusCode::kInvalidArgument, "level"));
  EXPECT_THAT(TailCount(10, kNaN), StatusIs(StatusCode::kInvalidArgument, "level"));
}

TEST(HistoricalTest, HandMadeSample) {
  // 20 P&Ls: sorted, the worst are -10, -8, -7, -3, ...
  const std::vector<double> pnl = {5, -3, 2, -10, 1, 4, -7, 0, 3, 6, -8, 9, 1, 2, -1, 0, 7, 3, -2, 8};
  // 95%: k = 1 -> VaR 10, ES 10.
  auto r = HistoricalVaREs(pnl, 0.95);
  ASSERT_TRUE(r.ok());
  EXPECT_DOUBLE_EQ(r->var, 10);
  EXPECT_DOUBLE_EQ(r->es, 10);
  // 90%: k = 2 -> VaR 8, ES (10 + 8) / 2 = 9.
  r = HistoricalVaREs(pnl, 0.90);
  ASSERT_TRUE(r.ok());
  EXPECT_DOUBLE_EQ(r->var, 8);
  EXPECT_DOUBLE_EQ(r->es, 9);
  // 80%: k = 4 -> VaR 3, ES (10 + 8 + 7 + 3) / 4 = 7.
  r = HistoricalVaREs(pnl, 0.80);
  ASSERT_TRUE(r.ok());
  EXPECT_DOUBLE_EQ(r->level, 0.80);
  EXPECT_DOUBLE_EQ(r->var, 3);
  EXPECT_DOUBLE_EQ(r->es, 7);
  // 83%: 20 * 0.17 = 3.4 -> k = 4, same as 80%.
  r = HistoricalVaREs(pnl, 0.83);
  ASSERT_TRUE(r.ok());
  EXPECT_DOUBLE_EQ(r->var, 3);
}

TEST(HistoricalTest, AllGainsGiveNegativeVaR) {
  const std::vector<double> pnl = {1, 2, 3, 4};
  auto r = HistoricalVaREs(pnl, 0.5);  // k = 2: VaR -2, ES -(1 + 2) / 2
  ASSERT_TRUE(r.ok());
  EXPECT_DOUBLE_EQ(r->var, -2);
  EXPECT_DOUBLE_EQ(r->es, -1.5);
}

TEST(HistoricalTest, BadInputNamesThePlace) {
  EXPECT_THAT(HistoricalVaREs({}, 0.99), StatusIs(StatusCode::kInvalidArgument, "empty"));
  const std::vector<double> nan = {1, kNaN, 3};
  EXPECT_THAT(HistoricalVaREs(nan, 0.99), StatusIs(StatusCode::kInvalidArgument, "pnl[1]"));
  const std::vector<double> inf = {1, 2, -kInf};
  EXPECT_THAT(HistoricalVaREs(inf, 0.99), StatusIs(StatusCode::kInvalidArgument, "pnl[2]"));
  const std::vector<double> ok = {1, 2, 3};
  EXPECT_THAT(HistoricalVaREs(ok, 99), StatusIs(StatusCode::kInvalidArgument, "(0, 1)"));
  EXPECT_THAT(HistoricalVaREs(ok, -0.5), StatusIs(StatusCode::kInvalidArgument, "(0, 1)"));
}

// --------------------------------------------------------------------------- parametric

double NormalPdf(double x) { return std::exp(-0.5 * x * x) / std::sqrt(2 * std::numbers::pi); }

TEST(ParametricTest, NormalClosedForm) {
  // Tabulated quantiles: z(0.95) = 1.6448536269514722, z(0.99) = 2.3263478740408408.
  for (auto [level, z] : {std::pair{0.95, 1.6448536269514722}, std::pair{0.99, 2.3263478740408408}}) {
    const double mean = 1.5, sd = 2;
    auto r = ClosedFormVaREs(mean, sd, level, {.distribution = Distribution::kNormal});
    ASSERT_TRUE(r.ok());
    EXPECT_NEAR(r->var, -mean + sd * z, 1e-12) << level;
    EXPECT_NEAR(r->es, -mean + sd * NormalPdf(z) / (1 - level), 1e-12) << level;
  }
}

// The level-quantile of the t with 3 dof from its closed-form upper tail
// S(t) = 1/2 - (atan(u) + u / (1 + u^2)) / pi, u = t / sqrt(3), by bisection. (Tables and
// scipy.stats.t.ppf give 4.540702858698419 at 0.99, 1.3e-10 too high: S is exactly 0.01 at
// 4.5407028585681...)
double T3Quantile(double level) {
  double lo = 0, hi = 100;
  for (int i = 0; i < 200; ++i) {
    const double m = (lo + hi) / 2, u = m / std::sqrt(3.0);
    (0.5 - (std::atan(u) + u / (1 + u * u)) / std::numbers::pi > 1 - level ? lo : hi) = m;
  }
  return lo;
}

TEST(ParametricTest, StudentTClosedFormWithThreeDof) {
  // t with 3 dof: density f(x) = 6 sqrt(3) / (pi (3 + x^2)^2); ES = s f(q) / (1 - a) (3 + q^2) / 2.
  EXPECT_NEAR(T3Quantile(0.95), 2.3533634348018264, 1e-12);  // tables
  for (double level : {0.95, 0.99}) {
    const double mean = -0.5, scale = 1.25, q = T3Quantile(level);
    const double f = 6 * std::sqrt(3.0) / (std::numbers::pi * (3 + q * q) * (3 + q * q));
    auto r = ClosedFormVaREs(mean, scale, level, {.distribution = Distribution::kStudentT, .dof = 3});
    ASSERT_TRUE(r.ok());
    EXPECT_NEAR(r->var, -mean + scale * q, 1e-12) << level;
    EXPECT_NEAR(r->es, -mean + scale * f / (1 - level) * (3 + q * q) / 2, 1e-12) << level;
  }
}

TEST(ParametricTest, SampleMomentsAndTScaledToTheVariance) {
  const std::vector<double> pnl = {-4, -1, 0, 2, 3};  // mean 0, sample variance 30 / 4 = 7.5
  const double sd = std::sqrt(7.5);
  auto n = ParametricVaREs(pnl, 0.99, {.distribution = Distribution::kNormal});
  ASSERT_TRUE(n.ok());
  EXPECT_NEAR(n->var, sd * 2.3263478740408408, 1e-12);
  auto t = ParametricVaREs(pnl, 0.99, {.distribution = Distribution::kStudentT, .dof = 3});
  ASSERT_TRUE(t.ok());
  // Scale s with s^2 * 3 / (3 - 2) = 7.5.
  EXPECT_NEAR(t->var, std::sqrt(7.5 / 3) * T3Quantile(0.99), 1e-12);
  EXPECT_GT(t->es, t->var);
}

TEST(ParametricTest, BadInput) {
  const std::vector<double> one = {1};
  EXPECT_THAT(ParametricVaREs(one, 0.99, {}), StatusIs(StatusCode::kInvalidArgument, "at least 2"));
  const std::vector<double> flat = {2, 2, 2};
  EXPECT_THAT(ParametricVaREs(flat, 0.99, {}), StatusIs(StatusCode::kInvalidArgument, "zero variance"));
  const std::vector<double> pnl = {1, 2, 4};
  EXPECT_THAT(ParametricVaREs(pnl, 0.99, {.distribution = Distribution::kStudentT, .dof = 2}),
              StatusIs(StatusCode::kInvalidArgument, "> 2"));
  EXPECT_THAT(ClosedFormVaREs(0, 1, 0.99, {.distribution = Distribution::kStudentT, .dof = 1}),
              StatusIs(StatusCode::kInvalidArgument, "> 1"));
  EXPECT_THAT(ClosedFormVaREs(0, -1, 0.99, {}), StatusIs(StatusCode::kInvalidArgument, "scale"));
  EXPECT_THAT(ClosedFormVaREs(kNaN, 1, 0.99, {}), StatusIs(StatusCode::kInvalidArgument, "mean"));
  const std::vector<double> nan = {1, 2, kNaN};
  EXPECT_THAT(ParametricVaREs(nan, 0.99, {}), StatusIs(StatusCode::kInvalidArgument, "pnl[2]"));
}

// -------------------------------------------------------------------------- contributions

TEST(ContributionsTest, HistoricalEulerSumsToTotal) {
  // 5 scenarios x 2 positions; portfolio P&L -3, 9, -12, 2, -1.
  const PositionPnl d{.scenarios = 5, .positions = 2, .pnl = {-1, -2, 4, 5, -10, -2, 1, 1, 3, -4}};
  auto c = HistoricalContributions(d, 0.6);  // k = 2: scenarios 2 (-12) and 0 (-3)
  ASSERT_TRUE(c.ok());
  EXPECT_DOUBLE_EQ(c->total.var, 3);
  EXPECT_DOUBLE_EQ(c->total.es, 7.5);
  EXPECT_THAT(c->var, ::testing::ElementsAre(1, 2));
  EXPECT_THAT(c->es, ::testing::ElementsAre(5.5, 2));
  const std::vector<double> total = {-3, 9, -12, 2, -1};
  auto h = HistoricalVaREs(total, 0.6);
  ASSERT_TRUE(h.ok());
  EXPECT_DOUBLE_EQ(h->var, c->total.var);
  EXPECT_DOUBLE_EQ(h->es, c->total.es);
}

TEST(ContributionsTest, ParametricEulerSumsToTotal) {
  const PositionPnl d{.scenarios = 6, .positions = 3,
                      .pnl = {1, -2, 0.5, 3, 1, -1, -4, 2, 0, 2, -3, 1.5, 0, 0.5, -2, -1, 1, 1}};
  for (auto dist : {Distribution::kNormal, Distribution::kStudentT}) {
    auto c = ParametricContributions(d, 0.99, {.distribution = dist, .dof = 4});
    ASSERT_TRUE(c.ok());
    double v = 0, e = 0;
    for (int j = 0; j < 3; ++j) v += c->var[j], e += c->es[j];
    EXPECT_NEAR(v, c->total.var, 1e-12);
    EXPECT_NEAR(e, c->total.es, 1e-12);
  }
  // One position: its contribution is the whole.
  const PositionPnl one{.scenarios = 4, .positions = 1, .pnl = {1, -2, 3, 0}};
  auto c = ParametricContributions(one, 0.95, {});
  ASSERT_TRUE(c.ok());
  EXPECT_NEAR(c->var[0], c->total.var, 1e-12);
  EXPECT_NEAR(c->es[0], c->total.es, 1e-12);
}

TEST(ContributionsTest, BadInput) {
  EXPECT_THAT(HistoricalContributions({.scenarios = 2, .positions = 2, .pnl = {1, 2, 3}}, 0.9),
              StatusIs(StatusCode::kInvalidArgument, "expected scenarios x positions"));
  EXPECT_THAT(HistoricalContributions({.scenarios = 0, .positions = 2, .pnl = {}}, 0.9),
              StatusIs(StatusCode::kInvalidArgument, "at least one scenario"));
  EXPECT_THAT(HistoricalContributions({.scenarios = 2, .positions = 2, .pnl = {1, 2, 3, kInf}}, 0.9),
              StatusIs(StatusCode::kInvalidArgument, "scenario 1, position 1"));
  EXPECT_THAT(ParametricContributions({.scenarios = 2, .positions = 1, .pnl = {1, 2}}, 1.5, {}),
              StatusIs(StatusCode::kInvalidArgument, "level"));
}

// ---------------------------------------------------------------------------- backtests

TEST(VaRBacktestTest, KupiecAndChristoffersenByHand) {
  // 10 days at 90%: exceptions on days 0, 1, 4 (x = 3, p = 0.1).
  const std::vector<bool> e = {true, true, false, false, true, false, false, false, false, false};
  auto r = BacktestExceptions(e, 0.9);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->exceptions, 3);
  EXPECT_DOUBLE_EQ(r->expected_exceptions, 1.0);
  // LR_uc = -2 [7 ln 0.9 + 3 ln 0.1 - 7 ln 0.7 - 3 ln 0.3].
  const double uc = -2 * (7 * std::log(0.9) + 3 * std::log(0.1) - 7 * std::log(0.7) - 3 * std::log(0.3));
  EXPECT_NEAR(r->kupiec.statistic, uc, 1e-12);
  // chi2(1) survival = erfc(sqrt(x / 2)).
  EXPECT_NEAR(r->kupiec.p_value, std::erfc(std::sqrt(uc / 2)), 1e-12);
  // Transitions: 1->1, 1->0, 0->0, 0->1, 1->0, 0->0 x4: n00 5, n01 1, n10 2, n11 1.
  EXPECT_EQ(r->n00, 5);
  EXPECT_EQ(r->n01, 1);
  EXPECT_EQ(r->n10, 2);
  EXPECT_EQ(r->n11, 1);
  const double pi = 2.0 / 9, p01 = 1.0 / 6, p11 = 1.0 / 3;
  const double l0 = 7 * std::log(1 - pi) + 2 * std::log(pi);
  const double l1 = 5 * std::log(1 - p01) + std::log(p01) + 2 * std::log(1 - p11) + std::log(p11);
  EXPECT_NEAR(r->independence.statistic, -2 * (l0 - l1), 1e-12);
  EXPECT_NEAR(r->conditional_coverage.statistic, uc - 2 * (l0 - l1), 1e-12);
  EXPECT_EQ(r->conditional_coverage.dof, 2);
  // chi2(2) survival = exp(-x / 2).
  EXPECT_NEAR(r->conditional_coverage.p_value, std::exp(-r->conditional_coverage.statistic / 2), 1e-12);
}

TEST(VaRBacktestTest, EdgeCasesAreFinite) {
  // No exception: LR_uc = -2 n ln(1 - p); no 1-state so LR_ind = 0.
  auto none = BacktestExceptions(std::vector<bool>(250, false), 0.99);
  ASSERT_TRUE(none.ok());
  EXPECT_NEAR(none->kupiec.statistic, -2 * 250 * std::log(0.99), 1e-10);
  EXPECT_EQ(none->independence.statistic, 0);
  EXPECT_EQ(none->independence.p_value, 1);
  EXPECT_EQ(none->zone, TrafficLight::kGreen);
  // All exceptions: LR_uc = -2 n ln p.
  auto all = BacktestExceptions(std::vector<bool>(20, true), 0.99);
  ASSERT_TRUE(all.ok());
  EXPECT_NEAR(all->kupiec.statistic, -2 * 20 * std::log(0.01), 1e-10);
  EXPECT_EQ(all->independence.statistic, 0);
  EXPECT_EQ(all->zone, TrafficLight::kRed);
  // One observation: no transition.
  auto one = BacktestExceptions({true}, 0.95);
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->n00 + one->n01 + one->n10 + one->n11, 0);
  EXPECT_EQ(one->independence.statistic, 0);
  EXPECT_TRUE(std::isfinite(one->kupiec.statistic));
}

TEST(VaRBacktestTest, BaselZonesFor250At99) {
  for (int x = 0; x <= 250; ++x) {
    const TrafficLight want = x <= 4 ? TrafficLight::kGreen : x <= 9 ? TrafficLight::kYellow : TrafficLight::kRed;
    EXPECT_THAT(BaselZone(250, x, 0.99), IsOkAndHolds(want)) << x;
  }
  EXPECT_EQ(TrafficLightName(TrafficLight::kYellow), "yellow");
  EXPECT_THAT(BaselZone(250, 251, 0.99), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(BaselZone(0, 0, 0.99), StatusIs(StatusCode::kInvalidArgument));
}

TEST(VaRBacktestTest, FromPnlAndVaR) {
  // Loss exceeds VaR strictly: day 1 (loss 5 > 4) only; day 2's loss equals its VaR.
  const std::vector<double> pnl = {1, -5, -3, 2};
  const std::vector<double> var = {4, 4, 3, 4};
  auto r = BacktestVaR(pnl, var, 0.95);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->exceptions, 1);
  EXPECT_EQ(r->n01, 1);
  EXPECT_EQ(r->n10, 1);
  const std::vector<double> short_var = {4, 4};
  EXPECT_THAT(BacktestVaR(pnl, short_var, 0.95), StatusIs(StatusCode::kInvalidArgument, "same length"));
  const std::vector<double> bad_var = {4, kNaN, 3, 4};
  EXPECT_THAT(BacktestVaR(pnl, bad_var, 0.95), StatusIs(StatusCode::kInvalidArgument, "var[1]"));
  const std::vector<double> bad_pnl = {1, 2, kInf, 4};
  EXPECT_THAT(BacktestVaR(bad_pnl, var, 0.95), StatusIs(StatusCode::kInvalidArgument, "pnl[2]"));
  EXPECT_THAT(BacktestVaR({}, {}, 0.95), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(BacktestVaR(pnl, var, 95), StatusIs(StatusCode::kInvalidArgument, "level"));
}

}  // namespace
}  // namespace almanac::risk
