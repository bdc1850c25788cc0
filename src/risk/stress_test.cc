// The stress-test chain on the quick-start data (issue 24): asset return files, three
// scenarios, the order of their losses, Euler sums, and bad input naming the place.
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "almanac/core/json.h"
#include "almanac/models.h"
#include "almanac/risk.h"

#include "core/testing/sanitizers.h"
#include "core/testing/status_matchers.h"

namespace almanac::risk {
namespace {

using ::almanac::testing::IsOk;
using ::almanac::testing::StatusIs;

std::string ReadText(const std::string& relative) {
  std::ifstream in(std::string(ALMANAC_SOURCE_DIR) + "/" + relative, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// us:tbilrate, us:unemp, us:infl of the quick-start file (statsmodels' macrodata).
models::MultiInput MacroData() {
  std::istringstream in(ReadText("examples/data/us_macro_quarterly.csv"));
  std::string line;
  std::getline(in, line);
  std::vector<std::string> header;
  {
    std::stringstream h(line);
    std::string cell;
    while (std::getline(h, cell, ',')) header.push_back(cell);
  }
  const std::vector<std::string> want = {"us:tbilrate", "us:unemp", "us:infl"};
  std::vector<int> cols;
  for (const auto& w : want) cols.push_back(static_cast<int>(std::find(header.begin(), header.end(), w) - header.begin()));
  models::MultiInput d;
  d.names = want;
  d.values.assign(want.size(), {});
  while (std::getline(in, line)) {
    std::vector<std::string> cells;
    std::stringstream r(line);
    std::string cell;
    while (std::getline(r, cell, ',')) cells.push_back(cell);
    if (!d.start) d.start = Period::Parse(cells[0]).value();
    for (size_t v = 0; v < cols.size(); ++v) d.values[v].push_back(std::stod(cells[cols[v]]));
  }
  return d;
}

StressTestRequest Request() {
  StressTestRequest req;
  req.data = MacroData();
  req.positions = ParsePositions(ReadText("testdata/risk/portfolio/positions.csv"), "positions.csv").value();
  req.fx = ParseFxRates(ReadText("testdata/risk/portfolio/fx.csv"), "fx.csv", "USD").value();
  req.returns = ParseAssetReturns(ReadText("testdata/risk/portfolio/asset_returns.csv"), "asset_returns.csv").value();
  req.scenarios = models::ParseScenarios(ReadText("testdata/risk/portfolio/scenarios.yaml"), "scenarios.yaml").value();
  req.model = {"var", Json{{"lags", 2}}};
  req.factors = {"us:tbilrate", "us:unemp"};
  req.factor_changes = true;
  req.num_paths = 2000;
  req.horizon = 8;
  return req;
}

TEST(AssetReturnsTest, ParsesAndNamesBadCells) {
  auto r = ParseAssetReturns("period,a,b\n2001Q1,0.1,-0.2\n2001Q2,0.0,1e-3\n", "r.csv");
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->assets, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(r->values[1][1], 1e-3);
  EXPECT_EQ(r->periods[1].ToString(), "2001Q2");
  EXPECT_THAT(ParseAssetReturns("period,a\n2001Q1,x\n", "r.csv"),
              StatusIs(StatusCode::kInvalidArgument, "r.csv:2, column 'a': 'x' is not a finite number"));
  EXPECT_THAT(ParseAssetReturns("period,a\n2001Q1,1\n2001Q1,2\n", "r.csv"),
              StatusIs(StatusCode::kInvalidArgument, "r.csv:3: period 2001Q1 appears twice"));
  EXPECT_THAT(ParseAssetReturns("asset,a\n", "r.csv"), StatusIs(StatusCode::kInvalidArgument, "'period'"));
  EXPECT_THAT(ParseAssetReturns("period,a,a\n2001Q1,1,2\n", "r.csv"), StatusIs(StatusCode::kInvalidArgument, "appears twice"));
}

TEST(StressTestTest, ThreeScenariosOnTheQuickStartData) {
  auto r = RunStressTest(Request());
  ASSERT_THAT(r, IsOk());
  ASSERT_EQ(r->scenario_names, (std::vector<std::string>{"baseline", "adverse", "severely_adverse"}));
  ASSERT_EQ(r->scenarios.size(), 3u);
  EXPECT_EQ(r->factor_model.assets.size(), 4u);
  EXPECT_EQ(r->factor_observations, 99);
  // The made-up returns load negatively on unemployment changes: the equity beta is found.
  EXPECT_NEAR(r->factor_model.fits[0].coefficients[2], -0.06, 0.03);
  const auto& base = r->scenarios[0].horizons.back();
  const auto& adverse = r->scenarios[1].horizons.back();
  const auto& severe = r->scenarios[2].horizons.back();
  EXPECT_EQ(base.period, "2011Q3");
  EXPECT_GT(base.mean, adverse.mean);
  EXPECT_GT(adverse.mean, severe.mean);
  for (const auto& s : r->scenarios)
    for (const auto& h : s.horizons)
      for (const auto& f : h.figures) {
        double sum = 0;
        for (double v : f.position_es) sum += v;
        EXPECT_NEAR(sum, f.es, 1e-6 * std::max(1.0, std::abs(f.es)));
      }
  EXPECT_EQ(r->historical.size(), 6u);
  const Json j = StressTestJson(*r);
  EXPECT_EQ(j["scenarios"].size(), 3u);
  EXPECT_EQ(j["scenarios"][2]["horizons"][7]["figures"][0]["components"].size(), 4u);  // drift, 2 factors, specific
}

TEST(StressTestTest, AFittedModelReloadedFromItsSerialisedFormGivesTheSameResult) {
  // The path a registered VAR/BVAR will take: fit, serialise (the model-package envelope),
  // load, and simulate from the loaded model instead of refitting. Same seed, same report.
  for (const char* type : {"var", "bvar"}) {
    StressTestRequest req = Request();
    // Any number of paths shows it; fewer under the sanitizers (4 runs took 10 s there).
    req.num_paths = almanac::testing::SanitizerSize(500, 100);
    req.model = {type, Json{{"lags", 2}}};
    req.model_parameter_uncertainty = std::string(type) == "bvar";
    auto refit = RunStressTest(req);
    ASSERT_THAT(refit, IsOk()) << type;
    auto model = models::CreateMultivariate(req.model);
    ASSERT_THAT(model, IsOk());
    ASSERT_THAT((*model)->Fit(req.data), IsOk());
    auto bytes = models::SerializeMultivariate(**model);
    ASSERT_THAT(bytes, IsOk());
    auto loaded = models::LoadMultivariate(ParseJson(*bytes).value());
    ASSERT_THAT(loaded, IsOk());
    req.fitted_model = std::move(*loaded);
    req.model = {"var", Json{{"lags", 7}}};  // ignored: the fitted model is used
    auto registered = RunStressTest(req);
    ASSERT_THAT(registered, IsOk()) << type;
    EXPECT_EQ(StressTestJson(*registered).dump(), StressTestJson(*refit).dump()) << type;
  }
  // A model of other variables, or fitted on data that end elsewhere, is refused.
  StressTestRequest req = Request();
  req.num_paths = 50;
  auto model = models::CreateMultivariate({"var", Json{{"lags", 2}}});
  ASSERT_THAT(model, IsOk());
  models::MultiInput shorter = req.data;
  for (auto& v : shorter.values) v.pop_back();
  ASSERT_THAT((*model)->Fit(shorter), IsOk());
  req.fitted_model = std::move(*model);
  EXPECT_THAT(RunStressTest(req), StatusIs(StatusCode::kInvalidArgument, "the macro data end before"));
  models::MultiInput renamed = req.data;
  renamed.names[2] = "us:cpi";
  auto other = models::CreateMultivariate({"var", Json{{"lags", 2}}});
  ASSERT_THAT(other, IsOk());
  ASSERT_THAT((*other)->Fit(renamed), IsOk());
  req.fitted_model = std::move(*other);
  EXPECT_THAT(RunStressTest(req), StatusIs(StatusCode::kInvalidArgument, "us:cpi"));
}

TEST(StressTestTest, BadInputNamesThePlace) {
  {
    auto req = Request();
    req.scenarios = models::ParseScenarios("horizon: 8\nscenarios:\n  s:\n    paths:\n      us:gdp: [1, 2, 3, 4, 5, 6, 7, 8]\n",
                                           "bad.yaml")
                        .value();
    EXPECT_THAT(RunStressTest(req), StatusIs(StatusCode::kInvalidArgument, "bad.yaml:5"));
  }
  {
    auto req = Request();
    req.scenarios = models::ParseScenarios("scenarios:\n  s:\n    paths:\n      us:unemp: [10, 11]\n", "short.yaml").value();
    EXPECT_THAT(RunStressTest(req), StatusIs(StatusCode::kInvalidArgument, "short.yaml:4"));
  }
  {
    auto req = Request();
    req.factors = {"us:gdp"};
    EXPECT_THAT(RunStressTest(req), StatusIs(StatusCode::kInvalidArgument, "factor 'us:gdp' is not a variable"));
  }
  {
    auto req = Request();
    req.returns = ParseAssetReturns("period,us_equity,us_treasury,ig_credit,eu_equity\n2009Q1,0.1,0,0,0\n2009Q2,0.2,0,0,0\n",
                                    "few.csv")
                      .value();
    EXPECT_THAT(RunStressTest(req), StatusIs(StatusCode::kInvalidArgument, "asset 'us_equity': factor model: too few observations"));
  }
  {
    auto req = Request();
    req.positions.push_back({"gold1", "gold", 1, "USD", 9});
    EXPECT_THAT(RunStressTest(req), StatusIs(StatusCode::kInvalidArgument, "position 'gold1' (line 9): unknown asset 'gold'"));
  }
  {
    auto req = Request();
    req.only = {"mild"};
    EXPECT_THAT(RunStressTest(req), StatusIs(StatusCode::kNotFound, "no scenario named 'mild'"));
  }
}

TEST(AsOfBacktestTest, VaRFromTheDataKnownAtEachOriginFeedsTheBacktest) {
  AsOfBacktestRequest req;
  req.base = Request();
  req.base.num_paths = 500;
  req.level = 0.95;
  for (Period p = Period::Parse("2005Q1").value(); p <= Period::Parse("2009Q3").value(); p += 1) req.origins.push_back(p);
  std::vector<std::string> asked;
  const models::MultiInput full = MacroData();
  req.data_as_of = [&](Date as_of) -> Result<models::MultiInput> {
    asked.push_back(as_of.ToString());
    return full;  // no vintages here: the backtest drops the periods not known yet
  };
  auto r = BacktestPortfolioAsOf(req);
  ASSERT_THAT(r, IsOk());
  ASSERT_EQ(r->points.size(), 18u);  // 2009Q3's target 2009Q4 has no return
  ASSERT_EQ(r->skipped.size(), 1u);
  EXPECT_EQ(asked.front(), "2005-04-01");
  EXPECT_EQ(r->points.front().target.ToString(), "2005Q2");
  EXPECT_EQ(r->backtest.observations, 18);
  int64_t exceptions = 0;
  for (const auto& p : r->points) {
    EXPECT_GT(p.var, 0);
    EXPECT_EQ(p.exception, -p.pnl > p.var);
    exceptions += p.exception;
  }
  EXPECT_EQ(r->backtest.exceptions, exceptions);
  // The first point is what a stress test on the data up to 2005Q1 gives one step ahead.
  StressTestRequest direct = Request();
  direct.num_paths = 500;
  direct.scenarios.reset();
  direct.horizon = 1;
  direct.risk.levels = {0.95};
  const int64_t n = Period::Parse("2005Q1").value().Diff(*full.start).value() + 1;
  for (auto& v : direct.data.values) v.resize(n);
  AssetReturns known = direct.returns;
  const size_t rows = static_cast<size_t>(Period::Parse("2005Q1").value().Diff(known.periods.front()).value() + 1);
  known.periods.resize(rows);
  for (auto& v : known.values) v.resize(rows);
  direct.returns = known;
  auto d = RunStressTest(direct);
  ASSERT_THAT(d, IsOk());
  EXPECT_EQ(d->scenarios[0].horizons[0].figures[0].var, r->points.front().var);
  req.origins.clear();
  EXPECT_THAT(BacktestPortfolioAsOf(req), StatusIs(StatusCode::kInvalidArgument, "no origin"));
}

// statsmodels (OLS, HAC) and numpy (historical VaR/ES, Euler ES) on the worked example's
// files: testdata/risk/portfolio/make_portfolio_reference.py -> reference.json, to 1e-8.
TEST(PortfolioReferenceTest, FactorModelAndHistoricalRiskMatchStatsmodelsAndNumpy) {
  auto ref = ParseJson(ReadText("testdata/risk/portfolio/reference.json"));
  ASSERT_THAT(ref, IsOk());
  auto req = Request();
  req.scenarios.reset();  // one unconditional run
  req.num_paths = 100;
  auto r = RunStressTest(req);
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->factor_observations, (*ref)["observations"].get<int64_t>());
  for (size_t a = 0; a < r->factor_model.assets.size(); ++a) {
    SCOPED_TRACE(r->factor_model.assets[a]);
    const Json& fit = (*ref)["factor_model"][r->factor_model.assets[a]];
    const FactorFit& got = r->factor_model.fits[a];
    EXPECT_EQ(got.lags, (*ref)["lags"].get<int64_t>());
    for (size_t c = 0; c < 3; ++c) {
      EXPECT_NEAR(got.coefficients[c], fit["coefficients"][c].get<double>(), 1e-8);
      EXPECT_NEAR(got.std_errors[c], fit["std_errors"][c].get<double>(), 1e-8);
    }
  }
  for (const Json& h : (*ref)["historical"]) {
    const double level = h["level"].get<double>();
    bool found = false;
    for (const auto& f : r->historical) {
      if (f.method != "historical" || f.level != level) continue;
      found = true;
      EXPECT_NEAR(f.var, h["var"].get<double>(), 1e-8);
      EXPECT_NEAR(f.es, h["es"].get<double>(), 1e-8);
      for (size_t j = 0; j < f.position_es.size(); ++j)
        EXPECT_NEAR(f.position_es[j], h["es_by_position"][j].get<double>(), 1e-8);
    }
    EXPECT_TRUE(found) << level;
  }
}

// Issue 24: a registered version's envelope drives the stress test only when it is a var/bvar.
TEST(StressTestTest, LoadMacroModelAcceptsVarAndBvarAndNamesTheVersionOtherwise) {
  StressTestRequest req = Request();
  auto model = models::CreateMultivariate({"var", Json{{"lags", 2}}});
  ASSERT_THAT(model, IsOk());
  ASSERT_THAT((*model)->Fit(req.data), IsOk());
  auto envelope = models::MultivariateEnvelope(**model);
  ASSERT_THAT(envelope, IsOk());
  auto loaded = LoadMacroModel("macro@1", "var", *envelope);
  ASSERT_THAT(loaded, IsOk());
  EXPECT_EQ((*loaded)->spec().type, "var");
  // A univariate envelope: FailedPrecondition naming the version and its type.
  const Json ets = {{"format", "almanac-model"}, {"format_version", 1},
                    {"spec", {{"type", "auto_ets"}, {"params", Json::object()}}}, {"state", Json::object()}};
  EXPECT_THAT(LoadMacroModel("gdp@3", "auto_ets", ets),
              StatusIs(StatusCode::kFailedPrecondition, "gdp@3 is a auto_ets model (univariate)"));
  Json arimax = ets;
  arimax["spec"]["type"] = "arimax";
  EXPECT_THAT(LoadMacroModel("x@2", "arimax", arimax), StatusIs(StatusCode::kFailedPrecondition, "does not simulate"));
  // A var envelope with a broken state: the loader's error, with the version named.
  Json broken = *envelope;
  broken["state"] = Json::object();
  auto bad = LoadMacroModel("macro@4", "var", broken);
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), ::testing::HasSubstr("macro@4"));
}

TEST(StressTestTest, AsOfBacktestJsonHasThePointsTheSkippedOriginsAndTheSummary) {
  AsOfBacktestResult r;
  AsOfVaRPoint p;
  p.origin = *Period::Parse("2006Q1");
  p.as_of = p.origin.EndDate() + 1;
  p.target = p.origin + 1;
  p.var = 2.5;
  p.es = 3;
  p.pnl = -4;
  p.exception = true;
  r.points.push_back(p);
  r.skipped = {"2006Q2"};
  auto bt = BacktestExceptions({true, false, false, false}, 0.95);
  ASSERT_THAT(bt, IsOk());
  r.backtest = *bt;
  const Json j = AsOfBacktestJson(r);
  ASSERT_EQ(j["points"].size(), 1u);
  EXPECT_EQ(j["points"][0], (Json{{"origin", "2006Q1"}, {"as_of", p.as_of.ToString()}, {"target", "2006Q2"},
                                  {"var", 2.5}, {"es", 3.0}, {"pnl", -4.0}, {"exception", true}}));
  EXPECT_EQ(j["skipped"], Json::array({"2006Q2"}));
  std::vector<std::string> keys;
  for (const auto& [k, v] : j["backtest"].items()) keys.push_back(k);
  EXPECT_THAT(keys, ::testing::UnorderedElementsAre("observations", "level", "exceptions", "expected_exceptions",
                                                    "kupiec_lr", "kupiec_p", "independence_lr", "independence_p",
                                                    "conditional_coverage_lr", "conditional_coverage_p", "zone"));
  EXPECT_EQ(j["backtest"]["exceptions"], 1);
  EXPECT_EQ(j["backtest"]["observations"], 4);
  EXPECT_EQ(j["backtest"]["zone"], std::string(TrafficLightName(bt->zone)));
  EXPECT_FALSE(j.contains("inputs"));  // the callers' own
}

}  // namespace
}  // namespace almanac::risk
