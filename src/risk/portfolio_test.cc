// Portfolio risk on simulated macro paths (issue 24): positions and FX files, the factor model
// per asset, Monte Carlo / parametric VaR and ES per horizon against closed forms, Euler sums,
// stress P&L on conditional VAR paths, thread invariance, 1/sqrt(N) convergence, bad input.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <string>
#include <vector>

#include <boost/math/distributions/normal.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "almanac/models.h"
#include "almanac/risk.h"

#include "core/testing/status_matchers.h"

namespace almanac::risk {
namespace {

using ::almanac::testing::IsOk;
using ::almanac::testing::StatusIs;
using ::testing::HasSubstr;

// ------------------------------------------------------------------------------ helpers

// Paths of one variable "f" whose value at every step of path i is values[i].
models::SimulatedPaths OneFactorPaths(const std::vector<double>& values, int horizon) {
  models::SimulatedPaths p;
  p.names = {"f", "g"};
  p.num_paths = static_cast<int>(values.size());
  p.horizon = horizon;
  p.num_vars = 2;
  p.method = "test";
  for (double v : values)
    for (int h = 0; h < horizon; ++h) {
      p.values.push_back(v);
      p.values.push_back(0.0);
    }
  return p;
}

// A fit with the given coefficients (intercept, beta), a diagonal covariance and residual sd.
FactorFit Fit(double alpha, double beta, double var_alpha, double var_beta, double residual_sd) {
  FactorFit f;
  f.coefficients = {alpha, beta};
  f.covariance = {var_alpha, 0, 0, var_beta};
  f.residual_sd = residual_sd;
  return f;
}

PortfolioFactorModel TwoAssets() {
  PortfolioFactorModel m;
  m.factors = {{"f", false}};
  m.assets = {"bonds", "equities"};
  m.fits = {Fit(0.001, 0.5, 1e-6, 1e-4, 0.01), Fit(0.002, 2.0, 4e-6, 4e-4, 0.03)};
  return m;
}

std::vector<Position> Book() {
  return {{"b1", "bonds", 100, "", 2}, {"e1", "equities", 50, "", 3}, {"e2", "equities", -20, "EUR", 4}};
}

FxRates Fx() {
  FxRates fx;
  fx.base = "USD";
  fx.rates = {{"EUR", 1.1}};
  return fx;
}

// Normal quantiles at (i + 0.5) / n: a deterministic "normal" sample.
std::vector<double> NormalGrid(int n, double mean, double sd) {
  boost::math::normal_distribution<double> z;
  std::vector<double> v(n);
  for (int i = 0; i < n; ++i) v[i] = mean + sd * boost::math::quantile(z, (i + 0.5) / n);
  return v;
}

const RiskFigure& Figure(const HorizonRisk& h, const std::string& method, double level) {
  for (const auto& f : h.figures)
    if (f.method == method && f.level == level) return f;
  ADD_FAILURE() << "no figure " << method << " at " << level;
  return h.figures.front();
}

double Sum(const std::vector<double>& v) { return std::accumulate(v.begin(), v.end(), 0.0); }

// --------------------------------------------------------------------------- input files

TEST(PositionsTest, CsvWithIdsAndCurrencies) {
  auto p = ParsePositions("id,asset,exposure,currency\n# a comment\nb1,bonds,100,usd\ne1,\"equities\",-2.5e1,EUR\n",
                          "book.csv");
  ASSERT_THAT(p, IsOk());
  ASSERT_EQ(p->size(), 2u);
  EXPECT_EQ((*p)[1].id, "e1");
  EXPECT_EQ((*p)[1].asset, "equities");
  EXPECT_EQ((*p)[1].exposure, -25);
  EXPECT_EQ((*p)[1].currency, "EUR");
  EXPECT_EQ((*p)[1].line, 4);
}

TEST(PositionsTest, JsonArrayAndObject) {
  auto a = ParsePositions(R"([{"asset": "bonds", "exposure": 10}, {"asset": "bonds", "exposure": "5", "currency": "eur"}])",
                          "p.json");
  ASSERT_THAT(a, IsOk());
  EXPECT_EQ((*a)[0].id, "bonds");
  EXPECT_EQ((*a)[1].id, "bonds/EUR");
  EXPECT_EQ((*a)[1].exposure, 5);
  auto o = ParsePositions(R"({"positions": [{"id": "x", "asset": "eq", "exposure": 1.5}]})", "p.json");
  ASSERT_THAT(o, IsOk());
  EXPECT_EQ((*o)[0].id, "x");
}

TEST(PositionsTest, BadInputNamesThePlace) {
  EXPECT_THAT(ParsePositions("asset,exposure\nbonds,abc\n", "book.csv"),
              StatusIs(StatusCode::kInvalidArgument, "book.csv:2: exposure 'abc' is not a finite number"));
  EXPECT_THAT(ParsePositions("asset,exposure\nbonds,nan\n", "book.csv"),
              StatusIs(StatusCode::kInvalidArgument, "book.csv:2"));
  EXPECT_THAT(ParsePositions("asset,exposure\nbonds,1\nbonds,2\n", "book.csv"),
              StatusIs(StatusCode::kInvalidArgument, "book.csv:3: duplicated position 'bonds'"));
  EXPECT_THAT(ParsePositions("id,asset,exposure\na,bonds,1\na,eq,2\n", "book.csv"),
              StatusIs(StatusCode::kInvalidArgument, "duplicated position 'a' (first at line 2)"));
  EXPECT_THAT(ParsePositions("asset,amount\nbonds,1\n", "book.csv"),
              StatusIs(StatusCode::kInvalidArgument, "asset and exposure"));
  EXPECT_THAT(ParsePositions("asset,exposure\n,1\n", "book.csv"), StatusIs(StatusCode::kInvalidArgument, "empty asset"));
  EXPECT_THAT(ParsePositions("asset,exposure\n", "book.csv"), StatusIs(StatusCode::kInvalidArgument, "no position"));
  EXPECT_THAT(ParsePositions("asset,exposure\nbonds,1,2\n", "book.csv"),
              StatusIs(StatusCode::kInvalidArgument, "book.csv:2: 3 fields"));
  EXPECT_THAT(ParsePositions(R"([{"asset": "b", "exposure": true}])", "p.json"),
              StatusIs(StatusCode::kInvalidArgument, "p.json position 1: exposure"));
  EXPECT_THAT(ParsePositions(R"([{"asset": "b", "exposure": 1, "colour": 2}])", "p.json"),
              StatusIs(StatusCode::kInvalidArgument, "unknown key 'colour'"));
  EXPECT_THAT(ParsePositions(R"([{"asset": "b", "exposure": 1}, {"asset": "b", "exposure": 2}])", "p.json"),
              StatusIs(StatusCode::kInvalidArgument, "p.json position 2: duplicated position 'b'"));
  EXPECT_THAT(ReadPositionsFile("/nonexistent/book.csv"), StatusIs(StatusCode::kNotFound));
}

TEST(FxRatesTest, ParseAndLookUp) {
  auto fx = ParseFxRates("currency,rate\nEUR,1.1\ngbp,1.25\n", "fx.csv", "usd");
  ASSERT_THAT(fx, IsOk());
  EXPECT_EQ(fx->base, "USD");
  EXPECT_EQ(*fx->Rate("GBP"), 1.25);
  EXPECT_EQ(*fx->Rate("USD"), 1.0);
  EXPECT_EQ(*fx->Rate(""), 1.0);
  EXPECT_THAT(fx->Rate("JPY"), StatusIs(StatusCode::kNotFound, "no FX rate for currency 'JPY'"));
  EXPECT_THAT(ParseFxRates("currency,rate\nEUR,-1\n", "fx.csv", "USD"),
              StatusIs(StatusCode::kInvalidArgument, "fx.csv:2: rate '-1' is not a positive number"));
  EXPECT_THAT(ParseFxRates("currency,rate\nEUR,1\nEUR,2\n", "fx.csv", "USD"),
              StatusIs(StatusCode::kInvalidArgument, "fx.csv:3: currency 'EUR' appears twice"));
  EXPECT_THAT(ParseFxRates("ccy,fx\n", "fx.csv", "USD"), StatusIs(StatusCode::kInvalidArgument, "currency,rate"));
}

// ------------------------------------------------------------------------- factor model fit

TEST(PortfolioFactorModelTest, FitsEachAssetAndNamesItInErrors) {
  // r_a = 0.01 + 0.5 f + small noise (hand-made, deterministic).
  std::vector<double> f, r1, r2;
  for (int t = 0; t < 40; ++t) {
    f.push_back(std::sin(0.7 * t));
    r1.push_back(0.01 + 0.5 * f.back() + 0.001 * std::cos(1.3 * t));
    r2.push_back(-0.02 + 1.5 * f.back() + 0.002 * std::cos(2.1 * t));
  }
  auto m = FitPortfolioFactorModel({"a", "b"}, {r1, r2}, {{"f", false}}, {f}, {});
  ASSERT_THAT(m, IsOk());
  EXPECT_NEAR(m->fits[0].coefficients[1], 0.5, 1e-2);
  EXPECT_NEAR(m->fits[1].coefficients[0], -0.02, 1e-2);
  // Too few observations: named by asset.
  EXPECT_THAT(FitPortfolioFactorModel({"a", "short"}, {r1, {0.1, 0.2}}, {{"f", false}}, {f}, {}),
              StatusIs(StatusCode::kInvalidArgument, "asset 'short': factor model"));
  EXPECT_THAT(FitPortfolioFactorModel({"a", "b"}, {{0.1, 0.2}, {0.1, 0.3}}, {{"f", false}}, {{1.0, 2.0}}, {}),
              StatusIs(StatusCode::kInvalidArgument, "too few observations"));
  EXPECT_THAT(FitPortfolioFactorModel({"a", "a"}, {r1, r2}, {{"f", false}}, {f}, {}),
              StatusIs(StatusCode::kInvalidArgument, "asset 'a' appears twice"));
  EXPECT_THAT(FitPortfolioFactorModel({"a"}, {r1}, {{"f", false}, {"f", false}}, {f, f}, {}),
              StatusIs(StatusCode::kInvalidArgument, "factor 'f' appears twice"));
}

// ----------------------------------------------------------------------- simulated P&L

TEST(PortfolioRiskTest, DeterministicCoefficientsMatchHandComputedPnl) {
  // Fixed coefficients, no residual: the P&L of path i at horizon h is
  //   h * sum_a E_a (alpha_a + beta_a f_i), E = (100, 50 - 20 * 1.1 = 28).
  std::vector<double> f;
  for (int i = 0; i < 200; ++i) f.push_back(std::sin(0.37 * i) * 0.02);
  const auto paths = OneFactorPaths(f, 3);
  PortfolioRiskOptions o{.parameter_uncertainty = false, .residuals = false, .threads = 1};
  auto r = SimulatePortfolioRisk(Book(), Fx(), TwoAssets(), paths, o);
  ASSERT_THAT(r, IsOk());
  ASSERT_EQ(r->horizons.size(), 3u);
  EXPECT_EQ(r->position_exposures, (std::vector<double>{100, 50, -20 * 1.1}));
  for (int h = 1; h <= 3; ++h) {
    std::vector<double> pnl;
    for (double v : f) pnl.push_back(h * (100 * (0.001 + 0.5 * v) + (50 - 20 * 1.1) * (0.002 + 2.0 * v)));
    const HorizonRisk& hr = r->horizons[h - 1];
    for (double level : {0.95, 0.99}) {
      auto ref = HistoricalVaREs(pnl, level);
      ASSERT_THAT(ref, IsOk());
      const RiskFigure& mc = Figure(hr, "monte_carlo", level);
      EXPECT_NEAR(mc.var, ref->var, 1e-12);
      EXPECT_NEAR(mc.es, ref->es, 1e-12);
      EXPECT_NEAR(Sum(mc.position_var), mc.var, 1e-12);
      EXPECT_NEAR(Sum(mc.position_es), mc.es, 1e-12);
      EXPECT_NEAR(Sum(mc.component_var), mc.var, 1e-12);
      EXPECT_NEAR(Sum(mc.component_es), mc.es, 1e-12);
      ASSERT_EQ(mc.components, (std::vector<std::string>{"drift", "f", "specific"}));
      // The drift is the same on every path; nothing is specific without draws or residuals.
      EXPECT_NEAR(mc.component_es[0], -h * (100 * 0.001 + 28 * 0.002), 1e-12);
      EXPECT_NEAR(mc.component_es[2], 0, 1e-12);
      // Parametric: closed forms on the sample's mean and sd, contributions summing.
      double m = std::accumulate(pnl.begin(), pnl.end(), 0.0) / pnl.size(), ss = 0;
      for (double v : pnl) ss += (v - m) * (v - m);
      auto n = ClosedFormVaREs(m, std::sqrt(ss / (pnl.size() - 1)), level, {});
      const RiskFigure& nf = Figure(hr, "normal", level);
      EXPECT_NEAR(nf.var, n->var, 1e-10);
      EXPECT_NEAR(nf.es, n->es, 1e-10);
      EXPECT_NEAR(Sum(nf.position_var), nf.var, 1e-9);
      EXPECT_NEAR(Sum(Figure(hr, "t", level).position_es), Figure(hr, "t", level).es, 1e-9);
    }
    EXPECT_NEAR(hr.mean, std::accumulate(pnl.begin(), pnl.end(), 0.0) / pnl.size(), 1e-12);
    EXPECT_EQ(std::accumulate(hr.histogram_counts.begin(), hr.histogram_counts.end(), int64_t{0}), 200);
  }
}

TEST(PortfolioRiskTest, NormalFactorGivesClosedFormVaRAndEs) {
  // f ~ N(0, 0.02^2) on a fine quantile grid, one asset r = 0.5 f, exposure 1000: P&L is
  // N(0, 10^2), so VaR and ES are the normal closed forms (to the grid's discretisation).
  const int n = 200000;
  const auto paths = OneFactorPaths(NormalGrid(n, 0, 0.02), 1);
  PortfolioFactorModel m;
  m.factors = {{"f", false}};
  m.assets = {"a"};
  m.fits = {Fit(0, 0.5, 1e-6, 1e-6, 0)};
  PortfolioRiskOptions o{.parameter_uncertainty = false, .residuals = false};
  auto r = SimulatePortfolioRisk({{"p", "a", 1000, "", 1}}, {}, m, paths, o);
  ASSERT_THAT(r, IsOk());
  for (double level : {0.95, 0.99}) {
    auto ref = ClosedFormVaREs(0, 10, level, {});
    EXPECT_NEAR(Figure(r->horizons[0], "monte_carlo", level).var, ref->var, 2e-3 * ref->var);
    EXPECT_NEAR(Figure(r->horizons[0], "monte_carlo", level).es, ref->es, 2e-3 * ref->es);
    EXPECT_NEAR(Figure(r->horizons[0], "normal", level).var, ref->var, 1e-3 * ref->var);
  }
}

TEST(PortfolioRiskTest, ParameterUncertaintyAndResidualsIdenticalForOneAndTwoThreads) {
  std::vector<double> f;
  for (int i = 0; i < 3000; ++i) f.push_back(std::sin(0.11 * i) * 0.03);
  const auto paths = OneFactorPaths(f, 4);
  PortfolioRiskOptions o{.seed = 9, .threads = 1};
  auto one = SimulatePortfolioRisk(Book(), Fx(), TwoAssets(), paths, o);
  o.threads = 2;
  auto two = SimulatePortfolioRisk(Book(), Fx(), TwoAssets(), paths, o);
  ASSERT_THAT(one, IsOk());
  ASSERT_THAT(two, IsOk());
  for (size_t h = 0; h < one->horizons.size(); ++h) {
    EXPECT_EQ(one->horizons[h].mean, two->horizons[h].mean);
    EXPECT_EQ(one->horizons[h].sd, two->horizons[h].sd);
    for (size_t i = 0; i < one->horizons[h].figures.size(); ++i) {
      const auto &a = one->horizons[h].figures[i], &b = two->horizons[h].figures[i];
      EXPECT_EQ(a.var, b.var);
      EXPECT_EQ(a.es, b.es);
      EXPECT_EQ(a.position_es, b.position_es);
      EXPECT_EQ(a.component_es, b.component_es);
      EXPECT_NEAR(Sum(a.position_es), a.es, 1e-9 * std::max(1.0, std::abs(a.es)));
      if (!a.components.empty()) {
        EXPECT_NEAR(Sum(a.component_var), a.var, 1e-9 * std::max(1.0, std::abs(a.var)));
      }
    }
  }
  // A different seed gives different draws.
  o.seed = 10;
  auto other = SimulatePortfolioRisk(Book(), Fx(), TwoAssets(), paths, o);
  ASSERT_THAT(other, IsOk());
  EXPECT_NE(other->horizons[0].figures[0].es, one->horizons[0].figures[0].es);
}

TEST(PortfolioRiskTest, ManyChunksAndTailGroupsIdenticalForOneTwoAndThreeThreads) {
  // 20,000 paths: 20 chunks of pass 1, and at 0.95 1,000 tail paths per horizon, so the
  // contribution pass has several groups of 512 tail paths, split between the threads.
  std::vector<double> f;
  for (int i = 0; i < 20000; ++i) f.push_back(std::sin(0.37 * i) * 0.02);
  const auto paths = OneFactorPaths(f, 3);
  PortfolioRiskOptions o{.seed = 4, .threads = 1};
  auto one = SimulatePortfolioRisk(Book(), Fx(), TwoAssets(), paths, o);
  ASSERT_THAT(one, IsOk());
  for (int threads : {2, 3}) {
    o.threads = threads;
    auto other = SimulatePortfolioRisk(Book(), Fx(), TwoAssets(), paths, o);
    ASSERT_THAT(other, IsOk());
    for (size_t h = 0; h < one->horizons.size(); ++h) {
      EXPECT_EQ(one->horizons[h].percentiles, other->horizons[h].percentiles) << threads;
      for (size_t i = 0; i < one->horizons[h].figures.size(); ++i) {
        const auto &a = one->horizons[h].figures[i], &b = other->horizons[h].figures[i];
        EXPECT_EQ(a.var, b.var) << threads;
        EXPECT_EQ(a.es, b.es) << threads;
        EXPECT_EQ(a.position_var, b.position_var) << threads;
        EXPECT_EQ(a.position_es, b.position_es) << threads;
        EXPECT_EQ(a.component_var, b.component_var) << threads;
        EXPECT_EQ(a.component_es, b.component_es) << threads;
      }
    }
  }
  for (const auto& hr : one->horizons)
    for (const auto& a : hr.figures) {
      EXPECT_NEAR(Sum(a.position_es), a.es, 1e-9 * std::max(1.0, std::abs(a.es)));
      EXPECT_NEAR(Sum(a.position_var), a.var, 1e-9 * std::max(1.0, std::abs(a.var)));
    }
}

TEST(PortfolioRiskTest, MonteCarloErrorShrinksLikeOneOverSqrtN) {
  // Factor f = 0: the P&L at h = 1 is exposure * (alpha + draw + residual) ~ N(E alpha,
  // E^2 (var_alpha + sd^2)); the RMS error of the Monte Carlo ES over seeds shrinks by ~4 from
  // N to 16 N.
  PortfolioFactorModel m;
  m.factors = {{"f", false}};
  m.assets = {"a"};
  m.fits = {Fit(0.01, 1.0, 0.0009, 1e-6, 0.04)};  // sd of alpha 0.03, residual 0.04: total 0.05
  const auto ref = ClosedFormVaREs(100 * 0.01, 100 * 0.05, 0.95, {});
  auto rms = [&](int n) {
    const auto paths = OneFactorPaths(std::vector<double>(n, 0.0), 1);
    double ss = 0;
    const int seeds = 12;
    for (int seed = 1; seed <= seeds; ++seed) {
      PortfolioRiskOptions o{.levels = {0.95}, .seed = static_cast<std::uint64_t>(seed), .histogram_bins = 0};
      auto r = SimulatePortfolioRisk({{"p", "a", 100, "", 1}}, {}, m, paths, o);
      EXPECT_THAT(r, IsOk());
      const double e = Figure(r->horizons[0], "monte_carlo", 0.95).es - ref->es;
      ss += e * e;
    }
    return std::sqrt(ss / seeds);
  };
  const double small = rms(1000), large = rms(16000);
  EXPECT_LT(large, small);
  EXPECT_GT(small / large, 2.0);
  EXPECT_LT(small / large, 8.0);
  EXPECT_LT(large, 0.02 * ref->es);
}

TEST(PortfolioRiskTest, StressOnConditionalVarPathsMeetsTheScenario) {
  // A VAR fitted on a 2-variable system; paths conditional on f = scenario at every step, so
  // with fixed coefficients and no residual every path has exactly the scenario's P&L.
  models::MultiInput d;
  d.names = {"f", "g"};
  d.values.assign(2, {});
  double f1 = 0, g1 = 0;
  for (int t = 0; t < 120; ++t) {
    const double e0 = 0.01 * std::sin(1.7 * t + 0.3), e1 = 0.01 * std::cos(2.3 * t);
    const double f = 0.5 * f1 + 0.1 * g1 + e0, g = 0.2 * f1 + 0.3 * g1 + e1;
    d.values[0].push_back(f);
    d.values[1].push_back(g);
    f1 = f;
    g1 = g;
  }
  auto model = models::CreateMultivariate({"var", Json{{"lags", 1}}});
  ASSERT_THAT(model, IsOk());
  ASSERT_THAT((*model)->Fit(d), IsOk());
  const std::vector<double> scenario = {-0.03, -0.05, -0.02};
  models::PathSimulationRequest req{.num_paths = 500, .horizon = 3, .seed = 3};
  req.conditions = {{"f", scenario}};
  auto paths = (*model)->SimulatePaths(req);
  ASSERT_THAT(paths, IsOk());
  PortfolioRiskOptions o{.parameter_uncertainty = false, .residuals = false};
  auto r = SimulatePortfolioRisk(Book(), Fx(), TwoAssets(), *paths, o);
  ASSERT_THAT(r, IsOk());
  double cum = 0;
  for (int h = 0; h < 3; ++h) {
    cum += 100 * (0.001 + 0.5 * scenario[h]) + (50 - 20 * 1.1) * (0.002 + 2.0 * scenario[h]);
    EXPECT_NEAR(r->horizons[h].point, cum, 1e-12);
    EXPECT_NEAR(r->horizons[h].mean, cum, 1e-12);
    EXPECT_NEAR(Figure(r->horizons[h], "monte_carlo", 0.99).var, -cum, 1e-12);
  }
  // The factor "g" follows the model: as a factor it makes the P&L random.
  PortfolioFactorModel mg = TwoAssets();
  mg.factors = {{"g", false}};
  auto rg = SimulatePortfolioRisk(Book(), Fx(), mg, *paths, o);
  ASSERT_THAT(rg, IsOk());
  EXPECT_GT(rg->horizons[2].sd, 0);
}

TEST(PortfolioRiskTest, DifferenceFactorsUseTheLastObservedValue) {
  // f is 0.1 on every step; as a change from the last value 0.04 it is 0.06 at step 1 and 0
  // after, so the cumulative factor term is 0.06 at every horizon.
  const auto paths = OneFactorPaths(std::vector<double>(10, 0.1), 3);
  PortfolioFactorModel m;
  m.factors = {{"f", true}};
  m.assets = {"a"};
  m.fits = {Fit(0, 2.0, 1e-6, 1e-6, 0)};
  PortfolioRiskOptions o{.parameter_uncertainty = false, .residuals = false, .last_values = {{"f", 0.04}}};
  auto r = SimulatePortfolioRisk({{"p", "a", 10, "", 1}}, {}, m, paths, o);
  ASSERT_THAT(r, IsOk());
  for (const auto& h : r->horizons) EXPECT_NEAR(h.mean, 10 * 2.0 * 0.06, 1e-12);
  o.last_values.clear();
  EXPECT_THAT(SimulatePortfolioRisk({{"p", "a", 10, "", 1}}, {}, m, paths, o),
              StatusIs(StatusCode::kInvalidArgument, "last observed value"));
}

TEST(PortfolioRiskTest, BadInput) {
  const auto paths = OneFactorPaths({0.01, -0.02, 0.03, 0.0}, 2);
  PortfolioRiskOptions o;
  EXPECT_THAT(SimulatePortfolioRisk({{"x1", "gold", 1, "", 7}}, Fx(), TwoAssets(), paths, o),
              StatusIs(StatusCode::kInvalidArgument, "position 'x1' (line 7): unknown asset 'gold'"));
  EXPECT_THAT(SimulatePortfolioRisk({{"x1", "bonds", 1, "JPY", 7}}, Fx(), TwoAssets(), paths, o),
              StatusIs(StatusCode::kNotFound, "position 'x1' (line 7): no FX rate for currency 'JPY'"));
  PortfolioFactorModel unknown = TwoAssets();
  unknown.factors = {{"gdp", false}};
  EXPECT_THAT(SimulatePortfolioRisk(Book(), Fx(), unknown, paths, o),
              StatusIs(StatusCode::kInvalidArgument, "factor 'gdp' is not a variable of the simulated paths (f, g)"));
  PortfolioFactorModel bad = TwoAssets();
  bad.fits[1].covariance = {1e-6, 2e-6, 2e-6, 1e-6};  // indefinite
  EXPECT_THAT(SimulatePortfolioRisk(Book(), Fx(), bad, paths, o),
              StatusIs(StatusCode::kInvalidArgument, "asset 'equities': the coefficient covariance is not positive definite"));
  o.levels = {0.99, 99};
  EXPECT_THAT(SimulatePortfolioRisk(Book(), Fx(), TwoAssets(), paths, o),
              StatusIs(StatusCode::kInvalidArgument, "level 99"));
  o.levels = {0.99};
  o.t_dof = 2;
  EXPECT_THAT(SimulatePortfolioRisk(Book(), Fx(), TwoAssets(), paths, o),
              StatusIs(StatusCode::kInvalidArgument, "degrees of freedom"));
}

TEST(HistoricalPortfolioRiskTest, RevaluesPositionsWithHistoricalReturns) {
  const std::vector<std::vector<double>> returns = {{0.01, -0.02, 0.005, -0.01, 0.02, -0.03, 0.0, 0.01},
                                                     {0.03, -0.05, 0.01, -0.02, 0.04, -0.01, -0.06, 0.02}};
  auto r = HistoricalPortfolioRisk(Book(), Fx(), {"bonds", "equities"}, returns, {.levels = {0.75}});
  ASSERT_THAT(r, IsOk());
  std::vector<double> pnl;
  for (size_t t = 0; t < 8; ++t) pnl.push_back(100 * returns[0][t] + (50 - 20 * 1.1) * returns[1][t]);
  auto ref = HistoricalVaREs(pnl, 0.75);
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ((*r)[0].method, "historical");
  EXPECT_NEAR((*r)[0].var, ref->var, 1e-12);
  EXPECT_NEAR((*r)[0].es, ref->es, 1e-12);
  EXPECT_NEAR(Sum((*r)[0].position_es), ref->es, 1e-12);
  EXPECT_NEAR(Sum((*r)[2].position_var), (*r)[2].var, 1e-12);
  EXPECT_THAT(HistoricalPortfolioRisk({{"x", "gold", 1, "", 3}}, Fx(), {"bonds", "equities"}, returns, {}),
              StatusIs(StatusCode::kInvalidArgument, "unknown asset 'gold'"));
}

}  // namespace
}  // namespace almanac::risk
