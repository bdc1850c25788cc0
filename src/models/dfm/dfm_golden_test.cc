// The mixed-frequency DFM against statsmodels 0.13.5 DynamicFactorMQ
// (testdata/models/dfm/make_goldens.py: simulated data, 8 monthly indicators and quarterly GDP,
// a "global" AR(2) block and a "real" AR(1) block, idiosyncratic AR(1), standardized).
//
// Tolerances (docs/nowcasting.md, "Goldens"):
//  - Same algorithm from the same start (statsmodels' start parameters): every E and M step is
//    the same arithmetic in another order, so after 3 EM iterations the log-likelihoods agree to
//    1e-9 relative and the parameters, smoothed factors and nowcast to 1e-6 (relative to
//    max(1, |expected|)). The differences come from summation order only; 1e-6 leaves room for
//    the amplification of rounding through three E/M steps.
//  - statsmodels' converged parameters (EM tolerance 1e-6, 210 iterations) with its final
//    initial state: log-likelihood (1e-9), factors, nowcast and the news decomposition (news,
//    weights, impacts, revision effect; 1e-6) are a pure smoothing computation.
//  - Converging from our own starting values is not compared here: on this data set it stops at
//    another local maximum (docs/nowcasting.md, "What is left").
#include <cmath>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "almanac/core/json.h"
#include "almanac/models/nowcast.h"
#include "core/testing/status_matchers.h"
#include "models/dfm/testing/dfm_testing.h"

namespace almanac::models {
namespace {

using ::almanac::testing::IsOk;
using dfm_testing::DfmGoldens;
using dfm_testing::GoldenOptions;
using dfm_testing::ReadDfmCsv;

void ExpectRelNear(double actual, double expected, double rel, const std::string& what) {
  EXPECT_LE(std::fabs(actual - expected), rel * std::max(1.0, std::fabs(expected)))
      << what << ": " << actual << " vs " << expected;
}

// statsmodels' structured parameters in our layout.
DfmParameters FromGolden(const Json& g, const DynamicFactorModel& shape_of) {
  DfmParameters p = shape_of.params();
  for (size_t i = 0; i < p.variables.size(); ++i)
    for (size_t f = 0; f < p.factors.size(); ++f) {
      const Json& l = g["loadings"][p.variables[i]];
      p.loadings[i][f] = l.contains(p.factors[f]) ? l[p.factors[f]].get<double>() : 0.0;
    }
  for (size_t b = 0; b < p.factor_ar.size(); ++b) {
    const std::string key = shape_of.options().blocks[b].name;
    p.factor_ar[b] = g["factor_ar"][key].get<std::vector<std::vector<double>>>();
    p.factor_cov[b] = g["factor_cov"][key].get<std::vector<std::vector<double>>>();
  }
  for (size_t i = 0; i < p.variables.size(); ++i) {
    p.idio_ar[i] = g["idio_ar"][p.variables[i]].get<double>();
    p.idio_var[i] = g["idio_var"][p.variables[i]].get<double>();
  }
  return p;
}

void ExpectParams(const DfmParameters& actual, const DfmParameters& expected, double rel) {
  for (size_t i = 0; i < actual.variables.size(); ++i) {
    for (size_t f = 0; f < actual.factors.size(); ++f)
      ExpectRelNear(actual.loadings[i][f], expected.loadings[i][f], rel,
                 "loading " + actual.variables[i] + "/" + actual.factors[f]);
    ExpectRelNear(actual.idio_ar[i], expected.idio_ar[i], rel, "idio_ar " + actual.variables[i]);
    ExpectRelNear(actual.idio_var[i], expected.idio_var[i], rel, "idio_var " + actual.variables[i]);
  }
  for (size_t b = 0; b < actual.factor_ar.size(); ++b)
    for (size_t r = 0; r < actual.factor_ar[b].size(); ++r) {
      for (size_t c = 0; c < actual.factor_ar[b][r].size(); ++c)
        ExpectRelNear(actual.factor_ar[b][r][c], expected.factor_ar[b][r][c], rel, "factor_ar");
      for (size_t c = 0; c < actual.factor_cov[b][r].size(); ++c)
        ExpectRelNear(actual.factor_cov[b][r][c], expected.factor_cov[b][r][c], rel, "factor_cov");
    }
}

void ExpectFactors(const DynamicFactorModel& model, const MixedFrequencyData& data, const Json& golden, double rel) {
  auto sm = model.Smooth(data);
  ASSERT_THAT(sm.status(), IsOk());
  for (size_t f = 0; f < model.params().factors.size(); ++f) {
    const auto expected = golden[model.params().factors[f]].get<std::vector<double>>();
    ASSERT_EQ(expected.size(), sm->factors[f].size());
    for (size_t t = 0; t < expected.size(); ++t)
      ExpectRelNear(sm->factors[f][t], expected[t], rel, "factor " + model.params().factors[f] + " t=" + std::to_string(t));
  }
}

Result<DynamicFactorModel> FitFromStatsmodelsStart(const MixedFrequencyData& data, int iterations,
                                                   double tolerance) {
  // One iteration gives the model's shape; its parameters are then replaced by statsmodels'.
  DfmOptions shape = GoldenOptions();
  shape.max_iterations = 1;
  ALMANAC_ASSIGN_OR_RETURN(DynamicFactorModel m, DynamicFactorModel::Fit(data, shape));
  const DfmParameters start = FromGolden(DfmGoldens()["start_params"], m);
  DfmOptions options = GoldenOptions();
  options.max_iterations = iterations;
  options.tolerance = tolerance;
  return DynamicFactorModel::Fit(data, options, &start);
}

TEST(DfmGoldenTest, StandardizationMatchesStatsmodels) {
  const auto data = ReadDfmCsv("data.csv");
  auto m = DynamicFactorModel::Fit(data, [] { auto o = GoldenOptions(); o.max_iterations = 1; return o; }());
  ASSERT_THAT(m.status(), IsOk());
  for (size_t i = 0; i < data.names.size(); ++i) {
    ExpectRelNear(m->means()[i], DfmGoldens()["standardize"]["mean"][data.names[i]].get<double>(), 1e-12, "mean");
    ExpectRelNear(m->stds()[i], DfmGoldens()["standardize"]["std"][data.names[i]].get<double>(), 1e-12, "std");
  }
}

TEST(DfmGoldenTest, ThreeEmIterationsFromStatsmodelsStartAreIdentical) {
  const auto data = ReadDfmCsv("data.csv");
  const Json& g = DfmGoldens()["em3"];
  auto m = FitFromStatsmodelsStart(data, 3, 0.0);
  ASSERT_THAT(m.status(), IsOk());
  const auto path = g["llf_path"].get<std::vector<double>>();
  ASSERT_EQ(m->report().loglik_path.size(), path.size());
  for (size_t i = 0; i < path.size(); ++i) ExpectRelNear(m->report().loglik_path[i], path[i], 1e-9, "llf path");
  ExpectRelNear(m->report().loglik, g["llf"].get<double>(), 1e-9, "llf");
  ExpectParams(m->params(), FromGolden(g["params"], *m), 1e-6);
  ExpectFactors(*m, data, g["factors"], 1e-6);
  auto now = m->NowcastOf(data, "gdp", Period::Parse("2023Q4").value());
  ASSERT_THAT(now.status(), IsOk());
  ExpectRelNear(now->value, g["nowcast_2023Q4"].get<double>(), 1e-6, "nowcast");
}

// statsmodels' converged parameters and the initial state of its final smoothing pass, loaded
// into our model: log-likelihood, smoothed factors, nowcast and the news between the vintages.
TEST(DfmGoldenTest, ConvergedStatsmodelsParametersGiveTheSameSmoothAndNews) {
  const auto data = ReadDfmCsv("data.csv");
  const Json& g = DfmGoldens()["converged"];
  DfmOptions shape = GoldenOptions();
  shape.max_iterations = 1;
  auto fitted = DynamicFactorModel::Fit(data, shape);
  ASSERT_THAT(fitted.status(), IsOk());
  Json j = fitted->ToJson();
  const DfmParameters p = FromGolden(g["params"], *fitted);
  j["params"]["loadings"] = p.loadings;
  j["params"]["factor_ar"] = p.factor_ar;
  j["params"]["factor_cov"] = p.factor_cov;
  j["params"]["idio_ar"] = p.idio_ar;
  j["params"]["idio_var"] = p.idio_var;
  j["initial_state"] = g["initial_state"];
  auto m = DynamicFactorModel::FromJson(j);
  ASSERT_THAT(m.status(), IsOk());
  auto sm = m->Smooth(data);
  ASSERT_THAT(sm.status(), IsOk());
  ExpectRelNear(sm->loglik, g["llf"].get<double>(), 1e-9, "llf");
  ExpectFactors(*m, data, g["factors"], 1e-6);
  auto now = m->NowcastOf(data, "gdp", Period::Parse("2023Q4").value());
  ASSERT_THAT(now.status(), IsOk());
  ExpectRelNear(now->value, g["nowcast_2023Q4"].get<double>(), 1e-6, "nowcast");

  // News between the two vintages with these parameters, as statsmodels' results.news().
  const auto old = ReadDfmCsv("data_old.csv");
  const Json& gn = DfmGoldens()["news"];
  auto news = m->News(old, data, "gdp", Period::Parse("2023Q4").value());
  ASSERT_THAT(news.status(), IsOk());
  ExpectRelNear(news->old_value, gn["old_nowcast"].get<double>(), 1e-6, "old nowcast");
  ExpectRelNear(news->new_value, gn["new_nowcast"].get<double>(), 1e-6, "new nowcast");
  ExpectRelNear(news->revision_impact, gn["revision_impact"].get<double>(), 1e-6, "revision impact");
  ExpectRelNear(news->news_impact, gn["news_impact"].get<double>(), 1e-6, "news impact");
  ASSERT_EQ(news->items.size(), gn["items"].size());
  std::map<std::string, Json> expected;
  for (const auto& item : gn["items"]) expected[item["variable"].get<std::string>() + "@" + item["period"].get<std::string>()] = item;
  for (const auto& item : news->items) {
    const std::string key = item.variable + "@" + item.period.ToString();
    ASSERT_TRUE(expected.count(key)) << key;
    const Json& e = expected[key];
    ExpectRelNear(item.observed, e["observed"].get<double>(), 1e-9, key + " observed");
    ExpectRelNear(item.forecast, e["forecast"].get<double>(), 1e-6, key + " forecast");
    ExpectRelNear(item.news, e["news"].get<double>(), 1e-6, key + " news");
    ExpectRelNear(item.weight, e["weight"].get<double>(), 1e-6, key + " weight");
    ExpectRelNear(item.impact, e["impact"].get<double>(), 1e-6, key + " impact");
  }
}

}  // namespace
}  // namespace almanac::models
