#include "models/combination/combination.h"

#include <cmath>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "almanac/models.h"

#include "core/testing/status_matchers.h"
#include "models/naive/naive.h"
#include "models/testing/model_testing.h"

namespace almanac::models {
namespace {

using testing::kLevels;
using testing::Builtins;

using ::almanac::testing::StatusIs;
using ::testing::Contains;
using ::testing::HasSubstr;

std::vector<double> Nile() { return testing::ReadGoldenSeries("models/theta/series.csv").at("Nile").y; }

Forecast FitPredictOrDie(const ForecasterRegistry& reg, const ModelSpec& spec, std::span<const double> y, int period,
                         int h) {
  auto m = reg.Create(spec);
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_TRUE((*m)->Fit({y, period}).ok());
  auto f = (*m)->Predict(h, kLevels);
  EXPECT_TRUE(f.ok()) << f.status().ToString();
  return *f;
}

TEST(CombinationTest, MeanOfComponentsPointsAndBounds) {
  const ForecasterRegistry reg = Builtins();
  const std::vector<double> y = Nile();
  const Json models = Json::array({"naive", "drift", "mean", "theta"});
  const Forecast c = FitPredictOrDie(reg, {"combination", {{"models", models}}}, y, 1, 10);
  std::vector<Forecast> parts;
  for (const auto& name : models) parts.push_back(FitPredictOrDie(reg, {name.get<std::string>(), {}}, y, 1, 10));
  for (int h = 0; h < 10; ++h) {
    double mean = 0, lo = 0, hi = 0;
    for (const auto& p : parts) {
      mean += p.mean[h] / 4;
      lo += p.intervals[1].lower[h] / 4;
      hi += p.intervals[1].upper[h] / 4;
    }
    EXPECT_NEAR(c.mean[h], mean, 1e-9);
    EXPECT_NEAR(c.intervals[1].lower[h], lo, 1e-9);
    EXPECT_NEAR(c.intervals[1].upper[h], hi, 1e-9);
  }
}

TEST(CombinationTest, EnvelopeIntervalsAreTheWidestBounds) {
  const ForecasterRegistry reg = Builtins();
  const std::vector<double> y = Nile();
  const Json models = Json::array({"naive", {{"type", "theta"}, {"params", {{"seasonal", "none"}}}}});
  const Forecast c = FitPredictOrDie(reg, {"combination", {{"models", models}, {"intervals", "envelope"}}}, y, 1, 6);
  const Forecast a = FitPredictOrDie(reg, {"naive", {}}, y, 1, 6);
  const Forecast b = FitPredictOrDie(reg, {"theta", {}}, y, 1, 6);
  for (int h = 0; h < 6; ++h) {
    EXPECT_DOUBLE_EQ(c.intervals[0].lower[h], std::min(a.intervals[0].lower[h], b.intervals[0].lower[h]));
    EXPECT_DOUBLE_EQ(c.intervals[0].upper[h], std::max(a.intervals[0].upper[h], b.intervals[0].upper[h]));
    EXPECT_NEAR(c.mean[h], (a.mean[h] + b.mean[h]) / 2, 1e-9);
  }
}

TEST(CombinationTest, ComponentThatFailsIsDroppedWithANote) {
  const ForecasterRegistry reg = Builtins();
  // Theta needs 4 observations; naive works with 3.
  const std::vector<double> y = {10, 12, 11};
  const Forecast c = FitPredictOrDie(reg, {"combination", {{"models", {"theta", "naive"}}}}, y, 1, 2);
  EXPECT_DOUBLE_EQ(c.mean[0], 11.0);
  EXPECT_THAT(c.notes, Contains(HasSubstr("component 1 (theta) failed to fit")));
  ASSERT_OK_AND_ASSIGN(auto m, reg.Create({"combination", {{"models", {"theta", "naive"}}}}));
  ASSERT_OK(m->Fit({y, 1}));
  EXPECT_THAT(m->Describe().notes, Contains(HasSubstr("dropped")));
  EXPECT_EQ(m->Describe().method, "Combination(Naive method)");
}

TEST(CombinationTest, ErrorWhenNoComponentFits) {
  const ForecasterRegistry reg = Builtins();
  ASSERT_OK_AND_ASSIGN(auto m, reg.Create({"combination", {{"models", {"theta", "drift"}}}}));
  const std::vector<double> y = {10};
  EXPECT_THAT(m->Fit({y, 1}), StatusIs(StatusCode::kInvalidArgument, "no component could be fitted"));
  EXPECT_THAT(m->Predict(2, kLevels), StatusIs(StatusCode::kFailedPrecondition));
}

TEST(CombinationTest, BadSpecsFailAtCreation) {
  const ForecasterRegistry reg = Builtins();
  EXPECT_THAT(reg.Create({"combination", {{"models", {"thetta"}}}}),
              StatusIs(StatusCode::kNotFound, "did you mean 'theta'"));
  EXPECT_THAT(reg.Create({"combination", {{"models", Json::array()}}}),
              StatusIs(StatusCode::kInvalidArgument, "non-empty list"));
  EXPECT_THAT(reg.Create({"combination", {{"models", {42}}}}), StatusIs(StatusCode::kInvalidArgument, "models[0]"));
  EXPECT_THAT(reg.Create({"combination", {{"models", {{{"type", "theta"}, {"parms", {}}}}}}}),
              StatusIs(StatusCode::kInvalidArgument, "unknown key 'parms'"));
  EXPECT_THAT(reg.Create({"combination", {{"models", {{{"type", "theta"}, {"params", {{"seasonal", 3}}}}}}}}),
              StatusIs(StatusCode::kInvalidArgument, "models[0]"));
  EXPECT_THAT(reg.Create({"combination", {{"intervals", "median"}}}), StatusIs(StatusCode::kInvalidArgument, "median"));
  EXPECT_THAT(reg.Create({"combination", {{"models", "theta"}}}), StatusIs(StatusCode::kInvalidArgument, "list"));
}

TEST(CombinationTest, DefaultComponentsComeFromTheRegistry) {
  // A registry without auto_ets/auto_arima rejects the default spec, naming the missing type;
  // the full built-in registry resolves whatever is registered under those names.
  ForecasterRegistry small;
  ASSERT_OK(small.Register(NaiveModelType()));
  ASSERT_OK(small.Register(CombinationModelType()));
  EXPECT_THAT(small.Create({"combination", {}}), StatusIs(StatusCode::kNotFound, "auto_ets"));
  const ForecasterRegistry reg = Builtins();
  const bool all_registered = reg.Find("auto_ets") && reg.Find("auto_arima") && reg.Find("theta");
  EXPECT_EQ(reg.Create({"combination", {}}).ok(), all_registered);
}

// A fake model type shows that any registered type can take part.
class ConstantForecaster : public Forecaster {
 public:
  explicit ConstantForecaster(ModelSpec spec) : spec_(std::move(spec)) {}
  const ModelSpec& spec() const override { return spec_; }
  Status Fit(const FitInput&) override {
    fitted_ = true;
    return Status::Ok();
  }
  Result<Forecast> Predict(int horizon, std::span<const double> levels) const override {
    Forecast f;
    f.mean.assign(static_cast<size_t>(horizon), 100.0);
    for (double l : levels)
      f.intervals.push_back({l, std::vector<double>(horizon, 90.0), std::vector<double>(horizon, 110.0)});
    return f;
  }
  ModelDescription Describe() const override {
    ModelDescription d;
    d.type = "const";
    d.method = "Const";
    return d;
  }
  std::vector<double> Fitted() const override { return {}; }
  Result<Json> SaveState() const override { return Json{{"c", 100}}; }

 private:
  ModelSpec spec_;
  bool fitted_ = false;
};

TEST(CombinationTest, UsesAnyRegisteredType) {
  ForecasterRegistry reg;
  ModelType fake;
  fake.name = "const";
  fake.create = [](const ModelSpec& s, const ForecasterRegistry&) -> Result<std::unique_ptr<Forecaster>> {
    return std::unique_ptr<Forecaster>(std::make_unique<ConstantForecaster>(s));
  };
  fake.load = [](const ModelSpec& s, const Json&, const ForecasterRegistry&) -> Result<std::unique_ptr<Forecaster>> {
    return std::unique_ptr<Forecaster>(std::make_unique<ConstantForecaster>(s));
  };
  ASSERT_OK(reg.Register(fake));
  ASSERT_OK(reg.Register(MeanModelType()));
  ASSERT_OK(reg.Register(CombinationModelType()));
  const std::vector<double> y = {40, 60};  // mean 50
  const Forecast f = FitPredictOrDie(reg, {"combination", {{"models", {"const", "mean"}}}}, y, 1, 3);
  EXPECT_DOUBLE_EQ(f.mean[2], 75.0);
}

TEST(CombinationTest, SerializationNestsComponentEnvelopes) {
  const ForecasterRegistry reg = Builtins();
  const std::vector<double> y = Nile();
  ASSERT_OK_AND_ASSIGN(auto m, reg.Create({"combination", {{"models", {"naive", "drift", "theta"}}}}));
  ASSERT_OK(m->Fit({y, 1}));
  ASSERT_OK_AND_ASSIGN(std::string bytes, SerializeModel(*m));
  ASSERT_OK_AND_ASSIGN(Json env, ParseJson(bytes));
  ASSERT_EQ(env["state"]["components"].size(), 3u);
  EXPECT_EQ(env["state"]["components"][2]["format"], "almanac-model");
  EXPECT_EQ(env["state"]["components"][2]["spec"]["type"], "theta");
  ASSERT_OK_AND_ASSIGN(auto again, reg.Deserialize(bytes));
  ASSERT_OK_AND_ASSIGN(std::string bytes2, SerializeModel(*again));
  EXPECT_EQ(bytes, bytes2);
  ASSERT_OK_AND_ASSIGN(Forecast f1, m->Predict(8, kLevels));
  ASSERT_OK_AND_ASSIGN(Forecast f2, again->Predict(8, kLevels));
  EXPECT_EQ(f1.mean, f2.mean);
  EXPECT_EQ(f1.intervals[0].lower, f2.intervals[0].lower);
  // A corrupted component is reported with its position.
  env["state"]["components"][1]["state"] = Json::object();
  EXPECT_THAT(reg.Load(env), StatusIs(StatusCode::kDataLoss, "component 2"));
}

TEST(CombinationTest, DeterministicAcrossThreadCounts) {
  const auto series = testing::ReadGoldenSeries("models/theta/series.csv");
  std::vector<FitInput> inputs;
  for (const auto& [name, s] : series) inputs.push_back({s.y, s.period});
  const ForecasterRegistry reg = Builtins();
  const ModelSpec spec{"combination", {{"models", {"naive2", "theta", "snaive"}}}};
  auto one = FitMany(reg, spec, inputs, 1);
  auto two = FitMany(reg, spec, inputs, 2);
  for (size_t i = 0; i < inputs.size(); ++i) {
    ASSERT_OK(one[i]);
    ASSERT_OK(two[i]);
    EXPECT_EQ(SerializeModel(**one[i]).value(), SerializeModel(**two[i]).value());
  }
}

TEST(CombinationTest, FittedIsTheMeanOfComponents) {
  const ForecasterRegistry reg = Builtins();
  const std::vector<double> y = {1, 2, 4, 8, 16};
  ASSERT_OK_AND_ASSIGN(auto m, reg.Create({"combination", {{"models", {"naive", "mean"}}}}));
  ASSERT_OK(m->Fit({y, 1}));
  const std::vector<double> f = m->Fitted();
  ASSERT_EQ(f.size(), 5u);
  EXPECT_TRUE(std::isnan(f[0]));  // naive has no fitted value for the first observation
  EXPECT_DOUBLE_EQ(f[1], (1 + 31.0 / 5) / 2);
}

}  // namespace
}  // namespace almanac::models
