// VAR against statsmodels 0.13.5 (testdata/models/var/make_goldens.py) on the log-differences
// of realgdp, realcons and realinv from statsmodels' macrodata: coefficients, standard errors,
// residual covariances, log-likelihood, information criteria, lag-order selection tables and
// choices, 8-step forecasts with 80/95% bounds and their MSE matrices, IRFs (plain and
// orthogonalised), FEVD, companion eigenvalue moduli and Granger F tests.
//
// Tolerance: every number within 1e-6 relative (|a - b| <= 1e-6 |b|), with an absolute floor
// of 1e-6 times the largest magnitude of the compared block for entries that are ~0.
#include <cmath>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "almanac/core/json.h"
#include "almanac/models.h"

#include "core/testing/status_matchers.h"
#include "models/testing/model_testing.h"

namespace almanac::models {
namespace {

using testing::MacroData;

using ::almanac::testing::IsOk;

constexpr double kRel = 1e-6;

Json VarGoldens() {
  static const Json doc = [] {
    std::ifstream in(std::string(ALMANAC_SOURCE_DIR) + "/testdata/models/var/macrodata_goldens.json");
    std::stringstream ss;
    ss << in.rdbuf();
    auto j = ParseJson(ss.str());
    EXPECT_TRUE(j.ok()) << j.status().ToString();
    return j.ok() ? *j : Json();
  }();
  return doc;
}

// Flattens nested arrays of numbers.
void Flatten(const Json& j, std::vector<double>* out) {
  if (j.is_array()) {
    for (const auto& e : j) Flatten(e, out);
  } else {
    out->push_back(j.get<double>());
  }
}

void ExpectClose(const Json& actual, const Json& expected, const std::string& what) {
  std::vector<double> a, e;
  Flatten(actual, &a);
  Flatten(expected, &e);
  ASSERT_EQ(a.size(), e.size()) << what;
  double scale = 0;
  for (double v : e) scale = std::max(scale, std::fabs(v));
  double worst = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double tol = kRel * std::max(std::fabs(e[i]), scale * 1e-3);
    EXPECT_NEAR(a[i], e[i], tol) << what << " entry " << i;
    if (e[i] != 0) worst = std::max(worst, std::fabs(a[i] - e[i]) / std::max(std::fabs(e[i]), scale * 1e-3));
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2e", worst);
  ::testing::Test::RecordProperty(what, buf);
}

std::unique_ptr<MultivariateForecaster> FitCase(const Json& c) {
  Json params = {{"lags", c["lags"]}, {"trend", c["trend"]}};
  auto m = CreateMultivariate({"var", params});
  EXPECT_THAT(m, IsOk());
  EXPECT_THAT((*m)->Fit(MacroData()), IsOk());
  return std::move(*m);
}

class VarGoldenTest : public ::testing::TestWithParam<int> {};

TEST_P(VarGoldenTest, MatchesStatsmodels) {
  const Json c = VarGoldens()["cases"][GetParam()];
  const std::string label = "VAR(" + std::to_string(c["lags"].get<int>()) + ") trend " + c["trend"].get<std::string>();
  SCOPED_TRACE(label);
  auto model = FitCase(c);
  auto d = model->Describe();
  ASSERT_THAT(d, IsOk());
  EXPECT_EQ(d->nobs, c["nobs"].get<int>());
  ExpectClose(Json(d->coefficients), c["params"], "params");
  ExpectClose(Json(d->std_errors), c["stderr"], "stderr");
  ExpectClose(Json(d->sigma_u), c["sigma_u"], "sigma_u");
  ExpectClose(d->loglik, c["llf"], "llf");
  ExpectClose(d->aic, c["aic"], "aic");
  ExpectClose(d->bic, c["bic"], "bic");
  ExpectClose(d->hqic, c["hqic"], "hqic");
  ExpectClose(d->fpe, c["fpe"], "fpe");

  const Json& fc = c["forecast"];
  auto f = model->Predict({.horizon = 8, .levels = {80, 95}});
  ASSERT_THAT(f, IsOk());
  // Goldens are [h][variable]; ours [variable][h].
  auto th = [](const std::vector<std::vector<double>>& v) {
    std::vector<std::vector<double>> t(v[0].size(), std::vector<double>(v.size()));
    for (size_t i = 0; i < v.size(); ++i)
      for (size_t h = 0; h < v[i].size(); ++h) t[h][i] = v[i][h];
    return Json(t);
  };
  ExpectClose(th(f->mean), fc["mean"], "forecast mean");
  ExpectClose(th(f->intervals[0].lower), fc["lower80"], "lower80");
  ExpectClose(th(f->intervals[0].upper), fc["upper80"], "upper80");
  ExpectClose(th(f->intervals[1].lower), fc["lower95"], "lower95");
  ExpectClose(th(f->intervals[1].upper), fc["upper95"], "upper95");
  ASSERT_TRUE(f->first_period.has_value());
  EXPECT_EQ(f->first_period->ToString(), "2009Q4");

  if (!c.contains("irf")) return;
  auto irf = model->ImpulseResponses({.periods = 10, .orthogonal = false});
  ASSERT_THAT(irf, IsOk());
  ExpectClose(Json(irf->response), c["irf"], "irf");
  auto oirf = model->ImpulseResponses({.periods = 10, .orthogonal = true});
  ASSERT_THAT(oirf, IsOk());
  ExpectClose(Json(oirf->response), c["orth_irf"], "orth_irf");
  auto fevd = model->Fevd(10);
  ASSERT_THAT(fevd, IsOk());
  ExpectClose(Json(fevd->share), c["fevd"], "fevd");
  ExpectClose(Json(d->eigen_moduli), c["eigen_moduli"], "eigen moduli");
  EXPECT_EQ(d->stable, c["is_stable"].get<bool>());
  for (const auto& t : c["granger"]) {
    const auto caused = t["caused"].get<std::vector<std::string>>();
    const auto causing = t["causing"].get<std::vector<std::string>>();
    auto g = model->Granger(caused, causing);
    ASSERT_THAT(g, IsOk());
    ExpectClose(g->statistic, t["statistic"], "granger statistic");
    ExpectClose(g->pvalue, t["pvalue"], "granger pvalue");
    ExpectClose(g->crit_value, t["crit_value"], "granger crit");
    EXPECT_EQ(g->df_num, t["df"][0].get<int>());
    EXPECT_EQ(g->df_den, t["df"][1].get<int>());
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, VarGoldenTest, ::testing::Values(0, 1, 2, 3));

TEST(VarGoldenSelectOrderTest, TablesAndChoicesMatchStatsmodels) {
  const Json goldens = VarGoldens();  // kept alive: a range-for over VarGoldens()[...] would iterate a destroyed temporary
  for (const auto& s : goldens["select_order"]) {
    const std::string trend = s["trend"].get<std::string>();
    SCOPED_TRACE("trend " + trend);
    auto sel = SelectVarOrder(MacroData(), s["maxlags"].get<int>(), ParseVarTrend(trend).value());
    ASSERT_THAT(sel, IsOk());
    ExpectClose(Json(sel->aic), s["aic"], "aic");
    ExpectClose(Json(sel->bic), s["bic"], "bic");
    ExpectClose(Json(sel->hqic), s["hqic"], "hqic");
    ExpectClose(Json(sel->fpe), s["fpe"], "fpe");
    EXPECT_EQ(sel->aic_order, s["selected"]["aic"].get<int>());
    EXPECT_EQ(sel->bic_order, s["selected"]["bic"].get<int>());
    EXPECT_EQ(sel->hqic_order, s["selected"]["hqic"].get<int>());
    EXPECT_EQ(sel->fpe_order, s["selected"]["fpe"].get<int>());
  }
}

TEST(VarGoldenSelectOrderTest, FitWithCriterionUsesTheSelectedOrder) {
  // Without deterministic terms the criteria disagree: AIC 6, BIC 2, HQ 3, FPE 6.
  const Json sel = VarGoldens()["select_order"][1];
  for (const char* ic : {"aic", "bic", "hqic", "fpe"}) {
    auto m = CreateMultivariate({"var", {{"max_lags", 8}, {"ic", ic}, {"trend", "n"}}});
    ASSERT_THAT(m, IsOk());
    ASSERT_THAT((*m)->Fit(MacroData()), IsOk());
    auto d = (*m)->Describe();
    ASSERT_THAT(d, IsOk());
    EXPECT_EQ(d->lags, sel["selected"][ic].get<int>()) << ic;
    ASSERT_TRUE(d->selection.has_value());
  }
}

}  // namespace
}  // namespace almanac::models
