// ARIMAX (regression with ARIMA errors) against R forecast 8.20's Arima(xreg = ) and
// forecast(fit, xreg = future) on datasets::Seatbelts (testdata/models/arimax/make_goldens.R),
// plus its errors and serialization.
//
// Tolerances: log-likelihood, AIC/AICc/BIC and sigma2 within 1e-6 relative; coefficients and
// forecasts within 1e-4 relative (or 1e-3 standard errors for coefficients); interval bounds
// within 1e-4 of the forecast's scale. The ARIMA fitter optimises the exact likelihood of the
// differenced data rather than R's diffuse full-state likelihood (see models/arima/README.md),
// which moves the optimum of differenced models by ~1e-5 relative.
#include <cmath>
#include <fstream>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "almanac/core/json.h"
#include "almanac/models.h"

#include "core/testing/status_matchers.h"

namespace almanac::models {
namespace {

using ::almanac::testing::IsOk;
using ::almanac::testing::StatusIs;

const Json& ArimaxGoldens() {
  static const Json g = [] {
    std::ifstream in(std::string(ALMANAC_SOURCE_DIR) + "/testdata/models/arimax/goldens.json");
    std::stringstream ss;
    ss << in.rdbuf();
    return ParseJson(ss.str()).value();
  }();
  return g;
}

struct ArimaxCase {
  MultiInput train;
  std::vector<PathCondition> future;
  Json spec;
};

ArimaxCase Make(const Json& c) {
  ArimaxCase out;
  const int n_train = c["n_train"].get<int>();
  const auto y = c["y"].get<std::vector<double>>();
  out.train.names = {"y"};
  out.train.values.push_back(std::vector<double>(y.begin(), y.begin() + n_train));
  const auto names = c["xreg_names"].get<std::vector<std::string>>();
  for (size_t j = 0; j < names.size(); ++j) {
    const auto x = c["xreg"][j].get<std::vector<double>>();
    out.train.names.push_back(names[j]);
    out.train.values.push_back(std::vector<double>(x.begin(), x.begin() + n_train));
    out.future.push_back({names[j], std::vector<double>(x.begin() + n_train, x.end())});
  }
  out.train.start = Period::Parse("1969-01").value();
  out.spec = {{"order", c["order"]},
              {"seasonal", c["seasonal"]},
              {"include_mean", c["include_mean"]},
              {"include_drift", c["include_drift"]},
              {"method", c["method"]}};
  return out;
}

void Near(double a, double e, double rel, const std::string& what) {
  EXPECT_NEAR(a, e, rel * std::max(std::fabs(e), 1e-12)) << what;
}

class ArimaxGoldenTest : public ::testing::TestWithParam<int> {};

TEST_P(ArimaxGoldenTest, MatchesRArimaWithXreg) {
  const Json& c = ArimaxGoldens()["cases"][GetParam()];
  SCOPED_TRACE(c["name"].get<std::string>());
  ArimaxCase cs = Make(c);
  auto m = CreateMultivariate({"arimax", cs.spec});
  ASSERT_THAT(m, IsOk());
  ASSERT_THAT((*m)->Fit(cs.train), IsOk());
  auto d = (*m)->Describe();
  ASSERT_THAT(d, IsOk());
  EXPECT_EQ(d->method, c["method_string"].get<std::string>());
  EXPECT_EQ(d->regressors, c["coef_names"].get<std::vector<std::string>>());
  for (size_t i = 0; i < d->regressors.size(); ++i) {
    const double e = c["coef"][i].get<double>(), se = c["se"][i].get<double>();
    EXPECT_NEAR(d->coefficients[i][0], e, std::max(1e-4 * std::fabs(e), 1e-3 * se)) << d->regressors[i];
    EXPECT_NEAR(d->std_errors[i][0], se, 1e-3 * se) << d->regressors[i];
  }
  Near(d->loglik, c["loglik"].get<double>(), 1e-6, "loglik");
  Near(d->aic, c["aic"].get<double>(), 1e-6, "aic");
  Near(d->bic, c["bic"].get<double>(), 1e-6, "bic");
  Near(d->params["aicc"].get<double>(), c["aicc"].get<double>(), 1e-6, "aicc");
  Near(d->params["sigma2"].get<double>(), c["sigma2"].get<double>(), 1e-5, "sigma2");
  auto f = (*m)->Predict({.horizon = 12, .levels = {80, 95}, .conditions = cs.future});
  ASSERT_THAT(f, IsOk());
  double scale = 0;
  for (const auto& v : c["mean"]) scale = std::max(scale, std::fabs(v.get<double>()));
  for (int h = 0; h < 12; ++h) {
    EXPECT_NEAR(f->mean[0][h], c["mean"][h].get<double>(), 1e-4 * scale) << "h " << h + 1;
    EXPECT_NEAR(f->intervals[0].lower[0][h], c["lower80"][h].get<double>(), 1e-4 * scale) << "h " << h + 1;
    EXPECT_NEAR(f->intervals[1].upper[0][h], c["upper95"][h].get<double>(), 1e-4 * scale) << "h " << h + 1;
  }
  // The regressors' rows echo their paths.
  EXPECT_EQ(f->mean[1], cs.future[0].values);
  EXPECT_EQ(f->first_period->ToString(), "1984-01");
  // Round trip.
  auto bytes = SerializeMultivariate(**m);
  ASSERT_THAT(bytes, IsOk());
  auto again = DeserializeMultivariate(*bytes);
  ASSERT_THAT(again, IsOk());
  EXPECT_EQ(SerializeMultivariate(**again).value(), *bytes);
  EXPECT_EQ((*again)->Predict({.horizon = 12, .levels = {80, 95}, .conditions = cs.future})->mean, f->mean);
}

INSTANTIATE_TEST_SUITE_P(Cases, ArimaxGoldenTest, ::testing::Values(0, 1, 2, 3));

TEST(ArimaxTest, ErrorsNameTheProblem) {
  ArimaxCase cs = Make(ArimaxGoldens()["cases"][2]);
  auto m = CreateMultivariate({"arimax", cs.spec});
  ASSERT_THAT((*m)->Fit(cs.train), IsOk());
  // A regressor without a future path, or with a gap in it.
  std::vector<PathCondition> one = {cs.future[0]};
  EXPECT_THAT((*m)->Predict({.horizon = 12, .conditions = one}),
              StatusIs(StatusCode::kInvalidArgument, "known future path of regressor law"));
  std::vector<PathCondition> gap = cs.future;
  gap[1].values[3] = std::nan("");
  EXPECT_THAT((*m)->Predict({.horizon = 12, .conditions = gap}), StatusIs(StatusCode::kInvalidArgument, "law"));
  std::vector<PathCondition> target = cs.future;
  target.push_back({"y", std::vector<double>(12, 1.0)});
  EXPECT_THAT((*m)->Predict({.horizon = 12, .conditions = target}),
              StatusIs(StatusCode::kInvalidArgument, "cannot be conditioned"));
  EXPECT_THAT((*m)->Predict({.horizon = 6, .conditions = cs.future}),
              StatusIs(StatusCode::kInvalidArgument, "horizon is 6"));
  // Missing regressor value in the training data; an unknown target; a single variable.
  MultiInput bad = cs.train;
  bad.values[1][20] = std::nan("");
  auto m2 = CreateMultivariate({"arimax", cs.spec});
  EXPECT_THAT((*m2)->Fit(bad),
              StatusIs(StatusCode::kInvalidArgument, "regressor PetrolPrice has a missing value at 1970-09"));
  auto m3 = CreateMultivariate({"arimax", {{"target", "z"}}});
  EXPECT_THAT((*m3)->Fit(cs.train), StatusIs(StatusCode::kInvalidArgument, "target 'z'"));
  MultiInput single = cs.train;
  single.names.resize(1);
  single.values.resize(1);
  EXPECT_THAT((*m3)->Fit(single), StatusIs(StatusCode::kInvalidArgument, "at least one regressor"));
  // Collinear regressors.
  MultiInput col = cs.train;
  col.names.push_back("law2");
  col.values.push_back(col.values[2]);
  auto m4 = CreateMultivariate({"arimax", cs.spec});
  EXPECT_THAT((*m4)->Fit(col), StatusIs(StatusCode::kFailedPrecondition, "collinear"));
  EXPECT_THAT((*m)->Granger(std::vector<std::string>{"y"}, {}), StatusIs(StatusCode::kUnimplemented));
  EXPECT_THAT(CreateMultivariate({"arimax", {{"order", {1, 0}}}}), StatusIs(StatusCode::kInvalidArgument, "order"));
}

// Issue 26: ARIMA and ARIMAX share one codec of the fitted state, so ARIMAX packages now keep
// sigma2_css and convergence. Packages written before lack them; registered packages are
// immutable, so those must still load and forecast the same numbers.
TEST(ArimaxTest, Issue26PackageWithoutSigma2CssAndConvergenceStillLoads) {
  ArimaxCase cs = Make(ArimaxGoldens()["cases"][2]);
  auto m = CreateMultivariate({"arimax", cs.spec});
  ASSERT_THAT(m, IsOk());
  ASSERT_THAT((*m)->Fit(cs.train), IsOk());
  auto env = MultivariateEnvelope(**m);
  ASSERT_THAT(env, IsOk());
  EXPECT_TRUE((*env)["state"]["sigma2_css"].is_number());
  EXPECT_EQ((*env)["state"]["convergence"], 0);
  const MultiPredictRequest request{.horizon = 12, .levels = {80, 95}, .conditions = cs.future};
  auto expected = (*m)->Predict(request);
  ASSERT_THAT(expected, IsOk());

  Json old = *env;
  old["state"].erase("sigma2_css");
  old["state"].erase("convergence");
  auto loaded = LoadMultivariate(old);
  ASSERT_THAT(loaded, IsOk());
  auto f = (*loaded)->Predict(request);
  ASSERT_THAT(f, IsOk());
  EXPECT_EQ(f->mean, expected->mean);
  EXPECT_EQ(f->intervals[1].lower, expected->intervals[1].lower);
  EXPECT_EQ((*loaded)->Describe()->loglik, (*m)->Describe()->loglik);

  // A package in the old format, as stored (the same fit; see testdata/models/arimax/README.md).
  std::ifstream in(std::string(ALMANAC_SOURCE_DIR) + "/testdata/models/arimax/package_before_issue26.json");
  std::stringstream ss;
  ss << in.rdbuf();
  ASSERT_FALSE(ss.str().empty());
  ASSERT_EQ(ss.str().find("sigma2_css"), std::string::npos);
  auto stored = DeserializeMultivariate(ss.str());
  ASSERT_THAT(stored, IsOk());
  auto g = (*stored)->Predict(request);
  ASSERT_THAT(g, IsOk());
  double scale = 0;
  for (double v : expected->mean[0]) scale = std::max(scale, std::fabs(v));
  for (int h = 0; h < 12; ++h) {
    EXPECT_NEAR(g->mean[0][h], expected->mean[0][h], 1e-9 * scale) << "h " << h + 1;
    EXPECT_NEAR(g->intervals[1].upper[0][h], expected->intervals[1].upper[0][h], 1e-9 * scale) << "h " << h + 1;
  }
  // Saved again, it is in the new format (sigma2_css unknown: null).
  auto resaved = MultivariateEnvelope(**stored);
  ASSERT_THAT(resaved, IsOk());
  EXPECT_TRUE((*resaved)["state"]["sigma2_css"].is_null());
  EXPECT_EQ((*resaved)["state"]["convergence"], 0);
}

TEST(ArimaxTest, IsARowOfTheOneModelTypeTable) {
  ForecasterRegistry registry;
  RegisterBuiltinModels(registry);
  const ModelType* t = registry.Find("arimax");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->kind, ModelKind::kExogenous);
  EXPECT_EQ(registry.Names(ModelKind::kMultivariate), (std::vector<std::string>{"var", "bvar"}));
  // The univariate registry API does not create it; the multivariate one does.
  EXPECT_THAT(registry.Create({"arimax", Json::object()}), StatusIs(StatusCode::kNotFound, "unknown model type"));
  EXPECT_THAT(registry.CreateMultivariate({"arimax", Json::object()}), IsOk());
  EXPECT_THAT(registry.CreateMultivariate({"arimx", Json::object()}),
              StatusIs(StatusCode::kNotFound, "did you mean 'arimax'?"));
  EXPECT_THAT(registry.ValidateMultivariate({"arimax", {{"draws", 1}}}),
              StatusIs(StatusCode::kInvalidArgument, "draws"));
}

}  // namespace
}  // namespace almanac::models
