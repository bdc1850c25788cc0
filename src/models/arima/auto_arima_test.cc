// The `auto_arima` model type against R forecast 8.20's auto.arima() (testdata/models/arima).
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "almanac/models.h"
#include "core/testing/status_matchers.h"
#include "models/arima/goldens_test_util.h"

namespace almanac::models {
namespace {

using ::almanac::testing::IsOk;
using ::almanac::testing::StatusIs;
using arima::testing::GNum;
using arima::testing::GoldenCaseNames;
using arima::testing::Goldens;
using arima::testing::GVec;
using arima::testing::MaxRelDiff;
using arima::testing::Scale;
using arima::testing::Series;

using arima::testing::kCoefTol;
using arima::testing::kForecastTol;
using arima::testing::kLoglikTol;
using arima::testing::kSigma2RelTol;

std::unique_ptr<Forecaster> MakeAuto(const Json& params = Json::object()) {
  ForecasterRegistry registry;
  RegisterBuiltinModels(registry);
  auto m = registry.Create(ModelSpec{"auto_arima", params});
  EXPECT_THAT(m, IsOk());
  return m.ok() ? std::move(*m) : nullptr;
}

const Json* FindGolden(const char* section, const std::string& name) {
  for (const auto& c : Goldens()[section])
    if (c["name"] == name) return &c;
  return nullptr;
}

// When almanac selects R's model, everything is compared; otherwise almanac's model must be
// at least as good by AICc (the criterion both minimise).
void CheckAgainstR(const char* section, const std::string& name, const Json& params) {
  const Json* golden = FindGolden(section, name);
  ASSERT_NE(golden, nullptr);
  auto s = Series(name);
  auto model = MakeAuto(params);
  ASSERT_THAT(model->Fit({s.y, s.m}), IsOk());
  const Json& gf = (*golden)["fit"];
  ModelDescription d = model->Describe();
  const std::string r_method = gf["method"].get<std::string>();
  if (std::getenv("ALMANAC_ARIMA_REPORT"))
    std::printf("REPORT auto %-10s almanac %-36s R %-36s AICc %.6f vs %.6f\n", name.c_str(), d.method.c_str(),
                r_method.c_str(), d.aicc, GNum(gf["aicc"]));
  if (d.method != r_method) {
    EXPECT_LE(d.aicc, GNum(gf["aicc"]) + 1e-6) << "almanac chose " << d.method << ", R chose " << r_method;
    return;
  }
  const auto names = gf["coef_names"].get<std::vector<std::string>>();
  const auto coef = GVec(gf["coef"]);
  for (size_t i = 0; i < names.size(); ++i) {
    ASSERT_TRUE(d.params.contains(names[i])) << names[i];
    EXPECT_NEAR(d.params[names[i]].get<double>(), coef[i], kCoefTol * std::max(1.0, std::abs(coef[i]))) << names[i];
  }
  EXPECT_NEAR(d.loglik, GNum(gf["loglik"]), kLoglikTol);
  EXPECT_NEAR(d.aicc, GNum(gf["aicc"]), 2 * kLoglikTol);
  EXPECT_NEAR(d.sigma2, GNum(gf["sigma2"]), kSigma2RelTol * GNum(gf["sigma2"]));
  const double scale = Scale(s.y);
  EXPECT_LT(MaxRelDiff(model->Fitted(), GVec(gf["fitted"]), scale), kForecastTol);
  const Json& fc = (*golden)["forecast"];
  const double levels[] = {80, 95};
  auto f = model->Predict(fc["h"].get<int>(), levels);
  ASSERT_THAT(f, IsOk());
  EXPECT_LT(MaxRelDiff(f->mean, GVec(fc["mean"]), scale), kForecastTol);
  EXPECT_LT(MaxRelDiff(f->intervals[0].lower, GVec(fc["lower80"]), scale), kForecastTol);
  EXPECT_LT(MaxRelDiff(f->intervals[0].upper, GVec(fc["upper80"]), scale), kForecastTol);
  EXPECT_LT(MaxRelDiff(f->intervals[1].lower, GVec(fc["lower95"]), scale), kForecastTol);
  EXPECT_LT(MaxRelDiff(f->intervals[1].upper, GVec(fc["upper95"]), scale), kForecastTol);
}

class AutoArimaGoldenTest : public ::testing::TestWithParam<std::string> {};

TEST_P(AutoArimaGoldenTest, MatchesR) { CheckAgainstR("auto_arima", GetParam(), Json::object()); }

INSTANTIATE_TEST_SUITE_P(R, AutoArimaGoldenTest, ::testing::ValuesIn(GoldenCaseNames("auto_arima")),
                         [](const ::testing::TestParamInfo<std::string>& i) { return i.param; });

TEST(AutoArima, FullSearchMatchesR) {
  for (const auto& c : Goldens()["auto_arima_full"])
    CheckAgainstR("auto_arima_full", c["name"].get<std::string>(), Json{{"stepwise", false}});
}

TEST(AutoArima, ApproximateSearchMatchesR) {
  for (const auto& c : Goldens()["auto_arima_approx"])
    CheckAgainstR("auto_arima_approx", c["name"].get<std::string>(), Json{{"approximation", true}});
}

TEST(AutoArima, SerializationRoundTripIsByteIdentical) {
  auto s = Series("N2471");
  auto model = MakeAuto();
  ASSERT_THAT(model->Fit({s.y, s.m}), IsOk());
  auto bytes = SerializeModel(*model);
  ASSERT_THAT(bytes, IsOk());
  ForecasterRegistry registry;
  RegisterBuiltinModels(registry);
  auto again = registry.Deserialize(*bytes);
  ASSERT_THAT(again, IsOk());
  EXPECT_EQ(*bytes, *SerializeModel(**again));
  const double levels[] = {50, 99};
  auto f1 = model->Predict(40, levels);
  auto f2 = (*again)->Predict(40, levels);
  ASSERT_THAT(f1, IsOk());
  ASSERT_THAT(f2, IsOk());
  EXPECT_EQ(f1->mean, f2->mean);
  EXPECT_EQ(f1->intervals[0].lower, f2->intervals[0].lower);
  EXPECT_EQ(f1->intervals[1].upper, f2->intervals[1].upper);
}

TEST(AutoArima, ConstantSeriesGivesTheMean) {
  const std::vector<double> y(20, 5.0);
  auto model = MakeAuto();
  ASSERT_THAT(model->Fit({y, 4}), IsOk());
  ModelDescription d = model->Describe();
  EXPECT_EQ(d.method, "ARIMA(0,0,0) with non-zero mean");
  EXPECT_DOUBLE_EQ(d.params["intercept"].get<double>(), 5.0);
  EXPECT_EQ(d.sigma2, 0.0);
  EXPECT_THAT(d.notes, ::testing::Contains(::testing::HasSubstr("constant")));
  const double levels[] = {95};
  auto f = model->Predict(3, levels);
  ASSERT_THAT(f, IsOk());
  EXPECT_DOUBLE_EQ(f->mean[0], 5.0);
  EXPECT_DOUBLE_EQ(f->intervals[0].lower[0], 5.0);
  // Infinite log-likelihood (a perfect fit) still serialises.
  auto bytes = SerializeModel(*model);
  ASSERT_THAT(bytes, IsOk());
  ForecasterRegistry registry;
  RegisterBuiltinModels(registry);
  auto again = registry.Deserialize(*bytes);
  ASSERT_THAT(again, IsOk());
  EXPECT_EQ((*again)->Describe().loglik, INFINITY);
}

TEST(AutoArima, LinearTrendGivesADeterministicDrift) {
  std::vector<double> y;
  for (int i = 1; i <= 20; ++i) y.push_back(i);
  auto model = MakeAuto();
  ASSERT_THAT(model->Fit({y, 1}), IsOk());
  EXPECT_EQ(model->Describe().method, "ARIMA(0,1,0) with drift");
  const double levels[] = {80};
  auto f = model->Predict(2, levels);
  ASSERT_THAT(f, IsOk());
  EXPECT_DOUBLE_EQ(f->mean[0], 21.0);
  EXPECT_DOUBLE_EQ(f->mean[1], 22.0);
}

TEST(AutoArima, TinySeriesAsR) {
  // R 4.2 / forecast 8.20: auto.arima(ts(y)) for these picks white noise.
  struct Case {
    std::vector<double> y;
    const char* method;
  };
  const Case cases[] = {
      {{5}, "ARIMA(0,0,0) with non-zero mean"},
      {{1, 3}, "ARIMA(0,0,0) with non-zero mean"},
      {{1, 3, 2}, "ARIMA(0,0,0) with non-zero mean"},
      {{1, 3, 2, 5}, "ARIMA(0,0,0) with zero mean"},
      {{1, 3, 2, 5, 4}, "ARIMA(0,0,0) with non-zero mean"},
  };
  for (const auto& c : cases) {
    auto model = MakeAuto();
    ASSERT_THAT(model->Fit({c.y, 1}), IsOk()) << c.y.size();
    EXPECT_EQ(model->Describe().method, c.method) << c.y.size();
    const double levels[] = {95};
    EXPECT_THAT(model->Predict(2, levels), IsOk());
  }
}

TEST(AutoArima, LeadingMissingValuesAreDropped) {
  const std::vector<double> y = {NAN, NAN, 1, 3, 2, 5, 4, 7, 6, 8, 9};
  auto model = MakeAuto();
  ASSERT_THAT(model->Fit({y, 1}), IsOk());
  ModelDescription d = model->Describe();
  EXPECT_EQ(d.method, "ARIMA(1,1,0) with drift");  // as R
  EXPECT_THAT(d.notes, ::testing::Contains(::testing::HasSubstr("leading missing")));
  auto fitted = model->Fitted();
  ASSERT_EQ(fitted.size(), y.size());
  EXPECT_TRUE(std::isnan(fitted[0]));
  EXPECT_FALSE(std::isnan(fitted[2]));
}

TEST(AutoArima, AllMissingIsAnError) {
  const std::vector<double> y(10, NAN);
  auto model = MakeAuto();
  EXPECT_THAT(model->Fit({y, 1}), StatusIs(StatusCode::kInvalidArgument, "no observations"));
}

TEST(AutoArima, NonSeasonalSearchIgnoresThePeriod) {
  auto s = Series("usacc");
  auto model = MakeAuto(Json{{"seasonal", false}});
  ASSERT_THAT(model->Fit({s.y, s.m}), IsOk());
  EXPECT_THAT(model->Describe().method, ::testing::Not(::testing::HasSubstr("[12]")));
}

TEST(AutoArima, FixedDifferencesAndIcAreHonoured) {
  auto s = Series("www");
  auto model = MakeAuto(Json{{"d", 2}, {"ic", "bic"}});
  ASSERT_THAT(model->Fit({s.y, 1}), IsOk());
  EXPECT_EQ(model->Describe().params["order"][1], 2);
}

TEST(AutoArima, ApproximationPathWorks) {
  // Forcing the CSS approximation (R's default for n > 150 or period > 12).
  auto s = Series("N2231");
  auto model = MakeAuto(Json{{"approximation", true}});
  ASSERT_THAT(model->Fit({s.y, s.m}), IsOk());
  ModelDescription d = model->Describe();
  EXPECT_TRUE(std::isfinite(d.aicc));
  EXPECT_EQ(d.params["estimation"], "CSS-ML");
  EXPECT_THAT(d.notes, ::testing::Contains(::testing::HasSubstr("CSS approximations")));
}

TEST(AutoArima, BadParametersFailAtCreation) {
  ForecasterRegistry registry;
  RegisterBuiltinModels(registry);
  EXPECT_THAT(registry.Create(ModelSpec{"auto_arima", Json{{"ic", "hq"}}}), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(registry.Create(ModelSpec{"auto_arima", Json{{"max_p", -1}}}), StatusIs(StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace almanac::models
