// The `arima` model type against R forecast 8.20's Arima() (testdata/models/arima), plus
// serialization and edge cases.
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

std::unique_ptr<Forecaster> MakeModel(const std::string& type, const Json& params) {
  ForecasterRegistry registry;
  RegisterBuiltinModels(registry);
  auto m = registry.Create(ModelSpec{type, params});
  EXPECT_THAT(m, IsOk());
  return m.ok() ? std::move(*m) : nullptr;
}

Json ArgsToParams(const Json& args) {
  Json p = Json::object();
  p["order"] = args["order"];
  p["seasonal"] = args["seasonal"];
  p["include_mean"] = args["include_mean"];
  p["include_drift"] = args["include_drift"];
  if (!args["include_constant"].is_null()) p["include_constant"] = args["include_constant"];
  p["method"] = args["method"];
  if (!args["fixed"].is_null()) p["fixed"] = args["fixed"];
  return p;
}

void ExpectNear(double got, double want, double tol, const std::string& what) {
  if (std::isnan(want)) {
    EXPECT_TRUE(std::isnan(got)) << what << ": R has NA, got " << got;
    return;
  }
  EXPECT_NEAR(got, want, tol) << what;
}

// Compares a fitted model with one golden entry {fit, forecast}.
void CompareWithR(const Forecaster& model, const Json& golden, const std::vector<double>& y, bool same_model) {
  const Json& gf = golden["fit"];
  ModelDescription d = model.Describe();
  EXPECT_EQ(d.method, gf["method"].get<std::string>());
  if (!same_model) return;
  const auto names = gf["coef_names"].get<std::vector<std::string>>();
  const auto coef = GVec(gf["coef"]);
  for (size_t i = 0; i < names.size(); ++i) {
    ASSERT_TRUE(d.params.contains(names[i])) << names[i];
    const double got = d.params[names[i]].get<double>();
    EXPECT_NEAR(got, coef[i], kCoefTol * std::max(1.0, std::abs(coef[i]))) << names[i];
  }
  ExpectNear(d.loglik, GNum(gf["loglik"]), kLoglikTol, "loglik");
  ExpectNear(d.aic, GNum(gf["aic"]), 2 * kLoglikTol, "aic");
  ExpectNear(d.aicc, GNum(gf["aicc"]), 2 * kLoglikTol, "aicc");
  ExpectNear(d.bic, GNum(gf["bic"]), 2 * kLoglikTol, "bic");
  EXPECT_NEAR(d.sigma2, GNum(gf["sigma2"]), kSigma2RelTol * GNum(gf["sigma2"])) << "sigma2";
  EXPECT_EQ(d.nobs, static_cast<int>(GNum(gf["nobs"])));
  const double scale = Scale(y);
  EXPECT_LT(MaxRelDiff(model.Fitted(), GVec(gf["fitted"]), scale), kForecastTol) << "fitted values";
  const Json& fc = golden["forecast"];
  const int h = fc["h"].get<int>();
  const double levels[] = {80, 95};
  auto f = model.Predict(h, levels);
  ASSERT_THAT(f, IsOk());
  if (std::getenv("ALMANAC_ARIMA_REPORT")) {
    // Accuracy summary for the README: max |coef diff|, |loglik diff|, sigma2 rel diff,
    // max forecast/bound diff relative to the series level.
    double dc = 0;
    for (size_t i = 0; i < names.size(); ++i)
      dc = std::max(dc, std::abs(d.params[names[i]].get<double>() - coef[i]) / std::max(1.0, std::abs(coef[i])));
    double df = MaxRelDiff(f->mean, GVec(fc["mean"]), scale);
    df = std::max(df, MaxRelDiff(f->intervals[0].lower, GVec(fc["lower80"]), scale));
    df = std::max(df, MaxRelDiff(f->intervals[1].upper, GVec(fc["upper95"]), scale));
    df = std::max(df, MaxRelDiff(f->intervals[1].lower, GVec(fc["lower95"]), scale));
    std::printf("REPORT %-24s coef %.1e loglik %.1e sigma2 %.1e fitted %.1e forecast %.1e\n",
                golden["name"].get<std::string>().c_str(), dc, std::abs(d.loglik - GNum(gf["loglik"])),
                std::abs(d.sigma2 / GNum(gf["sigma2"]) - 1), MaxRelDiff(model.Fitted(), GVec(gf["fitted"]), scale), df);
  }
  EXPECT_LT(MaxRelDiff(f->mean, GVec(fc["mean"]), scale), kForecastTol) << "forecast mean";
  EXPECT_LT(MaxRelDiff(f->intervals[0].lower, GVec(fc["lower80"]), scale), kForecastTol) << "lower 80";
  EXPECT_LT(MaxRelDiff(f->intervals[0].upper, GVec(fc["upper80"]), scale), kForecastTol) << "upper 80";
  EXPECT_LT(MaxRelDiff(f->intervals[1].lower, GVec(fc["lower95"]), scale), kForecastTol) << "lower 95";
  EXPECT_LT(MaxRelDiff(f->intervals[1].upper, GVec(fc["upper95"]), scale), kForecastTol) << "upper 95";
}

class ArimaGoldenTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ArimaGoldenTest, MatchesR) {
  const Json* golden = nullptr;
  for (const auto& c : Goldens()["arima"])
    if (c["name"] == GetParam()) golden = &c;
  ASSERT_NE(golden, nullptr);
  auto s = Series((*golden)["series"].get<std::string>());
  auto model = MakeModel("arima", ArgsToParams((*golden)["args"]));
  ASSERT_NE(model, nullptr);
  ASSERT_THAT(model->Fit({s.y, s.m}), IsOk());
  CompareWithR(*model, *golden, s.y, /*same_model=*/true);
}

INSTANTIATE_TEST_SUITE_P(R, ArimaGoldenTest, ::testing::ValuesIn(GoldenCaseNames("arima")),
                         [](const ::testing::TestParamInfo<std::string>& i) { return i.param; });

// The case names the golden suites register (scanned from the text) are those of the parsed file.
TEST(ArimaGoldens, GoldenCaseNamesAgreeWithTheParsedFile) {
  for (const std::string section : {"arima", "auto_arima", "series", "auto_arima_full"}) {
    std::vector<std::string> parsed;
    for (const auto& c : Goldens()[section]) parsed.push_back(c["name"].get<std::string>());
    EXPECT_FALSE(parsed.empty()) << section;
    EXPECT_EQ(GoldenCaseNames(section), parsed) << section;
  }
  EXPECT_TRUE(GoldenCaseNames("no_such_section").empty());
}

TEST(ArimaModel, SerializationRoundTripIsByteIdentical) {
  auto s = Series("logair");
  auto model = MakeModel("arima", Json{{"order", {0, 1, 1}}, {"seasonal", {0, 1, 1}}});
  ASSERT_THAT(model->Fit({s.y, s.m}), IsOk());
  auto bytes = SerializeModel(*model);
  ASSERT_THAT(bytes, IsOk());
  ForecasterRegistry registry;
  RegisterBuiltinModels(registry);
  auto again = registry.Deserialize(*bytes);
  ASSERT_THAT(again, IsOk());
  auto bytes2 = SerializeModel(**again);
  ASSERT_THAT(bytes2, IsOk());
  EXPECT_EQ(*bytes, *bytes2);
  const double levels[] = {80, 95};
  auto f1 = model->Predict(30, levels);
  auto f2 = (*again)->Predict(30, levels);
  ASSERT_THAT(f1, IsOk());
  ASSERT_THAT(f2, IsOk());
  EXPECT_EQ(f1->mean, f2->mean);
  EXPECT_EQ(f1->intervals[1].upper, f2->intervals[1].upper);
  EXPECT_EQ(model->Fitted(), (*again)->Fitted());
  EXPECT_EQ(model->Describe().method, (*again)->Describe().method);
}

TEST(ArimaModel, FitIsDeterministic) {
  auto s = Series("N2231");
  auto a = MakeModel("arima", Json{{"order", {1, 1, 1}}, {"seasonal", {0, 1, 1}}});
  auto b = MakeModel("arima", Json{{"order", {1, 1, 1}}, {"seasonal", {0, 1, 1}}});
  ASSERT_THAT(a->Fit({s.y, s.m}), IsOk());
  ASSERT_THAT(b->Fit({s.y, s.m}), IsOk());
  EXPECT_EQ(*SerializeModel(*a), *SerializeModel(*b));
}

TEST(ArimaModel, TooShortForTheOrderIsAnError) {
  const std::vector<double> y = {1, 3, 2, 5, 4};
  auto model = MakeModel("arima", Json{{"order", {3, 1, 2}}});
  EXPECT_THAT(model->Fit({y, 1}), StatusIs(StatusCode::kInvalidArgument, "too short"));
  auto seasonal = MakeModel("arima", Json{{"order", {0, 1, 1}}, {"seasonal", {0, 1, 1}}});
  const std::vector<double> y12(12, 1.0);
  EXPECT_THAT(seasonal->Fit({y12, 12}), StatusIs(StatusCode::kInvalidArgument, "not enough data"));
}

TEST(ArimaModel, SeasonalOrderWithPeriodOneIsAnError) {
  auto s = Series("www");
  auto model = MakeModel("arima", Json{{"order", {1, 1, 0}}, {"seasonal", {0, 1, 1}}});
  EXPECT_THAT(model->Fit({s.y, 1}), StatusIs(StatusCode::kInvalidArgument, "seasonal period"));
  // The period parameter makes it valid.
  auto with_period = MakeModel("arima", Json{{"order", {1, 1, 0}}, {"seasonal", {0, 1, 1}}, {"period", 4}});
  EXPECT_THAT(with_period->Fit({s.y, 1}), IsOk());
}

TEST(ArimaModel, ConstantSeriesIsAClearError) {
  const std::vector<double> y(30, 5.0);
  auto model = MakeModel("arima", Json{{"order", {0, 0, 0}}});
  EXPECT_THAT(model->Fit({y, 1}), StatusIs(StatusCode::kInvalidArgument, "constant"));
  // With every coefficient fixed there is nothing to estimate.
  auto fixed = MakeModel("arima", Json{{"order", {0, 0, 0}}, {"fixed", {5.0}}});
  ASSERT_THAT(fixed->Fit({y, 1}), IsOk());
  const double levels[] = {95};
  auto f = fixed->Predict(3, levels);
  ASSERT_THAT(f, IsOk());
  EXPECT_DOUBLE_EQ(f->mean[2], 5.0);
  EXPECT_DOUBLE_EQ(f->intervals[0].upper[2], 5.0);
}

TEST(ArimaModel, NonStationaryFixedArIsAnError) {
  auto s = Series("www");
  auto model = MakeModel("arima", Json{{"order", {1, 1, 0}}, {"fixed", {1.2}}});
  EXPECT_THAT(model->Fit({s.y, 1}), StatusIs(StatusCode::kInvalidArgument, "not stationary"));
  auto two = MakeModel("arima", Json{{"order", {2, 0, 0}}, {"fixed", {0.5, 0.6, nullptr}}});
  EXPECT_THAT(two->Fit({s.y, 1}), StatusIs(StatusCode::kInvalidArgument, "not stationary"));
}

TEST(ArimaModel, WrongFixedLengthIsAnError) {
  auto s = Series("www");
  auto model = MakeModel("arima", Json{{"order", {1, 1, 1}}, {"fixed", {0.5}}});
  EXPECT_THAT(model->Fit({s.y, 1}), StatusIs(StatusCode::kInvalidArgument, "'fixed' has 1 values"));
}

TEST(ArimaModel, InfiniteValuesAreRejected) {
  auto s = Series("www");
  s.y[7] = INFINITY;
  auto model = MakeModel("arima", Json{{"order", {1, 1, 1}}});
  EXPECT_THAT(model->Fit({s.y, 1}), StatusIs(StatusCode::kInvalidArgument, "observation 8 is infinite"));
}

TEST(ArimaModel, HorizonLimits) {
  auto s = Series("www");
  auto model = MakeModel("arima", Json{{"order", {1, 1, 1}}});
  ASSERT_THAT(model->Fit({s.y, 1}), IsOk());
  const double levels[] = {80};
  EXPECT_THAT(model->Predict(0, levels), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(model->Predict(kMaxHorizon + 1, levels), StatusIs(StatusCode::kInvalidArgument));
  auto big = model->Predict(kMaxHorizon, levels);
  ASSERT_THAT(big, IsOk());
  for (double v : big->intervals[0].upper) ASSERT_TRUE(std::isfinite(v));
}

TEST(ArimaModel, UnfittedModelFailsCleanly) {
  auto model = MakeModel("arima", Json{{"order", {1, 0, 0}}});
  const double levels[] = {80};
  EXPECT_THAT(model->Predict(3, levels), StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_THAT(model->SaveState(), StatusIs(StatusCode::kFailedPrecondition));
}

TEST(ArimaModel, BadParametersFailAtCreation) {
  ForecasterRegistry registry;
  RegisterBuiltinModels(registry);
  EXPECT_THAT(registry.Create(ModelSpec{"arima", Json{{"order", {1, 1}}}}), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(registry.Create(ModelSpec{"arima", Json{{"order", {1, -1, 0}}}}),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(registry.Create(ModelSpec{"arima", Json{{"method", "MLE"}}}), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(registry.Create(ModelSpec{"arima", Json{{"ordr", {1, 0, 0}}}}),
              StatusIs(StatusCode::kInvalidArgument, "did you mean"));
}

TEST(ArimaModel, DriftWithTwoDifferencesIsDroppedWithANote) {
  auto s = Series("N0249");
  auto model = MakeModel("arima", Json{{"order", {0, 2, 1}}, {"include_drift", true}});
  ASSERT_THAT(model->Fit({s.y, 1}), IsOk());
  ModelDescription d = model->Describe();
  EXPECT_EQ(d.method, "ARIMA(0,2,1)");
  ASSERT_EQ(d.notes.size(), 1u);
  EXPECT_THAT(d.notes[0], ::testing::HasSubstr("no drift"));
}

TEST(ArimaModel, BoxCoxWrapperWorks) {
  auto s = Series("air");
  auto model = MakeModel("arima", Json{{"order", {0, 1, 1}}, {"seasonal", {0, 1, 1}}, {"lambda", 0}});
  ASSERT_THAT(model->Fit({s.y, s.m}), IsOk());
  const double levels[] = {95};
  auto f = model->Predict(12, levels);
  ASSERT_THAT(f, IsOk());
  // exp of the log-scale airline forecast (golden logair_airline).
  for (const auto& c : Goldens()["arima"]) {
    if (c["name"] == "logair_airline") {
      EXPECT_NEAR(f->mean[0], std::exp(GVec(c["forecast"]["mean"])[0]), 1e-3 * f->mean[0]);
    }
  }
}

}  // namespace
}  // namespace almanac::models
