#include "models/calibrate/calibrate.h"

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "almanac/models.h"

#include "core/testing/status_matchers.h"
#include "models/testing/model_testing.h"

namespace almanac::models {
namespace {

using testing::kLevels;
using testing::Builtins;

using ::almanac::testing::IsOk;
using ::almanac::testing::StatusIs;
using ::testing::Contains;
using ::testing::HasSubstr;

// Standard normal variates from a seeded mt19937_64 (Box-Muller on 53-bit uniforms), so the
// test data are the same with every standard library.
class Normal {
 public:
  explicit Normal(std::uint64_t seed) : engine_(seed) {}
  double operator()() {
    const double u1 = (static_cast<double>(engine_() >> 11) + 0.5) * 0x1p-53;
    const double u2 = static_cast<double>(engine_() >> 11) * 0x1p-53;
    return std::sqrt(-2 * std::log(u1)) * std::cos(2 * M_PI * u2);
  }

 private:
  std::mt19937_64 engine_;
};

std::vector<double> RandomWalk(Normal& rng, int n) {
  std::vector<double> y(static_cast<size_t>(n));
  double level = 100;
  for (auto& v : y) v = level += rng();
  return y;
}

std::unique_ptr<Forecaster> FitOrDie(const ForecasterRegistry& reg, const ModelSpec& spec, std::span<const double> y,
                                     int period = 1) {
  auto m = reg.Create(spec);
  EXPECT_THAT(m, IsOk());
  EXPECT_THAT((*m)->Fit({y, period}), IsOk());
  return std::move(*m);
}

TEST(CalibrateTest, PointForecastsAndFitsUnchangedIntervalsWidened) {
  const ForecasterRegistry reg = Builtins();
  Normal rng(7);
  const std::vector<double> y = RandomWalk(rng, 60);
  auto plain = FitOrDie(reg, {"mean", {}}, y);
  auto cal = FitOrDie(reg, {"mean", {{"calibrate", true}}}, y);
  auto fp = plain->Predict(6, kLevels);
  auto fc = cal->Predict(6, kLevels);
  ASSERT_THAT(fp, IsOk());
  ASSERT_THAT(fc, IsOk());
  EXPECT_EQ(fc->mean, fp->mean);  // bit for bit
  EXPECT_EQ(cal->Fitted(), plain->Fitted());
  for (size_t k = 0; k < 2; ++k) {
    for (int h = 0; h < 6; ++h) {
      EXPECT_LE(fc->intervals[k].lower[h], fp->intervals[k].lower[h]);
      EXPECT_GE(fc->intervals[k].upper[h], fp->intervals[k].upper[h]);
    }
  }
  // The mean model ignores the random walk's persistence: its errors out of sample are far
  // larger than its intervals assume, so the calibration widens them a lot.
  EXPECT_GT(fc->intervals[1].upper[0] - fc->mean[0], 1.5 * (fp->intervals[1].upper[0] - fp->mean[0]));
  EXPECT_THAT(fc->notes, Contains(HasSubstr("intervals calibrated on")));
  const ModelDescription d = cal->Describe();
  EXPECT_EQ(d.method, plain->Describe().method);
  ASSERT_TRUE(d.params.contains("calibration"));
  EXPECT_EQ(d.params["calibration"]["origins"], 6);  // default horizon 6 for period 1
  EXPECT_EQ(d.params["calibration"]["errors"], 21);  // 1 + 2 + ... + 6
}

// The calibration is meant to bring coverage closer to the nominal level when the model's
// intervals are too narrow: simulate that case and score both on held-out data.
TEST(CalibrateTest, CoverageImprovesOnSimulatedMisspecifiedModel) {
  const ForecasterRegistry reg = Builtins();
  Normal rng(2024);
  constexpr int kSeries = 150, kTrain = 40, kH = 6;
  int covered_plain = 0, covered_cal = 0, total = 0;
  for (int s = 0; s < kSeries; ++s) {
    const std::vector<double> all = RandomWalk(rng, kTrain + kH);
    const std::span<const double> train(all.data(), kTrain);
    auto fp = FitOrDie(reg, {"mean", {}}, train)->Predict(kH, kLevels);
    auto fc = FitOrDie(reg, {"mean", {{"calibrate", true}}}, train)->Predict(kH, kLevels);
    ASSERT_THAT(fp, IsOk());
    ASSERT_THAT(fc, IsOk());
    for (int h = 0; h < kH; ++h) {
      const double y = all[kTrain + h];
      covered_plain += fp->intervals[1].lower[h] <= y && y <= fp->intervals[1].upper[h];
      covered_cal += fc->intervals[1].lower[h] <= y && y <= fc->intervals[1].upper[h];
      ++total;
    }
  }
  const double plain = static_cast<double>(covered_plain) / total;
  const double cal = static_cast<double>(covered_cal) / total;
  EXPECT_LT(plain, 0.85);
  EXPECT_GT(cal, plain + 0.1);
  EXPECT_LT(std::fabs(cal - 0.95), std::fabs(plain - 0.95));
}

TEST(CalibrateTest, SerializesAndLoadsToTheSameModel) {
  const ForecasterRegistry reg = Builtins();
  Normal rng(11);
  const std::vector<double> y = RandomWalk(rng, 48);
  const ModelSpec spec{"drift", {{"calibrate", {{"origins", 5}, {"horizon", 4}}}}};
  auto a = FitOrDie(reg, spec, y);
  auto b = FitOrDie(reg, spec, y);
  auto bytes = SerializeModel(*a);
  ASSERT_THAT(bytes, IsOk());
  EXPECT_EQ(*bytes, *SerializeModel(*b));  // deterministic
  auto loaded = reg.Deserialize(*bytes);
  ASSERT_THAT(loaded, IsOk());
  EXPECT_EQ(*SerializeModel(**loaded), *bytes);
  auto f1 = a->Predict(8, kLevels);
  auto f2 = (*loaded)->Predict(8, kLevels);
  ASSERT_THAT(f2, IsOk());
  EXPECT_EQ(f1->mean, f2->mean);
  EXPECT_EQ(f1->intervals[1].upper, f2->intervals[1].upper);
  EXPECT_EQ(a->Describe().params["calibration"]["origins"], 5);
}

TEST(CalibrateTest, QuantileMethodAndWrappedBoxCox) {
  const ForecasterRegistry reg = Builtins();
  Normal rng(3);
  const std::vector<double> y = RandomWalk(rng, 50);
  auto q = FitOrDie(reg, {"mean", {{"calibrate", {{"method", "quantile"}}}}}, y);
  auto fq = q->Predict(3, kLevels);
  ASSERT_THAT(fq, IsOk());
  auto plain = FitOrDie(reg, {"mean", {}}, y)->Predict(3, kLevels);
  EXPECT_EQ(fq->mean, plain->mean);
  EXPECT_GT(fq->intervals[1].upper[0], plain->intervals[1].upper[0]);
  // Box-Cox is refitted inside every origin (calibration wraps it).
  auto bc = FitOrDie(reg, {"naive", {{"lambda", 0}, {"calibrate", true}}}, y);
  auto fb = bc->Predict(3, kLevels);
  ASSERT_THAT(fb, IsOk());
  auto fb_plain = FitOrDie(reg, {"naive", {{"lambda", 0}}}, y)->Predict(3, kLevels);
  EXPECT_EQ(fb->mean, fb_plain->mean);
  EXPECT_LE(fb->intervals[0].lower[2], fb_plain->intervals[0].lower[2]);
  EXPECT_THAT(bc->Describe().method, HasSubstr("Box-Cox"));
}

TEST(CalibrateTest, TooFewErrorsKeepsTheModelIntervalsWithANote) {
  const ForecasterRegistry reg = Builtins();
  const std::vector<double> y = {10, 12, 11, 13, 12, 14, 13, 15};
  auto cal = FitOrDie(reg, {"naive", {{"calibrate", {{"min_errors", 50}}}}}, y);
  auto plain = FitOrDie(reg, {"naive", {}}, y);
  auto fc = cal->Predict(4, kLevels);
  ASSERT_THAT(fc, IsOk());
  EXPECT_EQ(fc->intervals[1].upper, plain->Predict(4, kLevels)->intervals[1].upper);
  EXPECT_THAT(fc->notes, Contains(HasSubstr("interval calibration skipped")));
  EXPECT_THAT(cal->Describe().notes, Contains(HasSubstr("need 50")));
}

TEST(CalibrateTest, FalseOrNullMeansNoWrapper) {
  const ForecasterRegistry reg = Builtins();
  EXPECT_FALSE(CalibrationRequested(Json{{"calibrate", false}}));
  EXPECT_FALSE(CalibrationRequested(Json{{"calibrate", nullptr}}));
  EXPECT_FALSE(CalibrationRequested(Json::object()));
  EXPECT_TRUE(CalibrationRequested(Json{{"calibrate", Json::object()}}));
  const std::vector<double> y = {1, 2, 3, 4, 5, 6};
  auto m = FitOrDie(reg, {"naive", {{"calibrate", false}}}, y);
  EXPECT_THAT(m->Describe().params.contains("calibration"), false);
}

TEST(CalibrateTest, RejectsBadOptions) {
  const ForecasterRegistry reg = Builtins();
  EXPECT_THAT(reg.Create({"naive", {{"calibrate", "yes"}}}), StatusIs(StatusCode::kInvalidArgument, "calibrate"));
  EXPECT_THAT(reg.Create({"naive", {{"calibrate", {{"orgins", 4}}}}}),
              StatusIs(StatusCode::kInvalidArgument, "did you mean 'origins'"));
  EXPECT_THAT(reg.Create({"naive", {{"calibrate", {{"method", "bootstrap"}}}}}),
              StatusIs(StatusCode::kInvalidArgument, "quantile"));
  EXPECT_THAT(reg.Create({"naive", {{"calibrate", {{"origins", 0}}}}}), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(reg.Create({"naive", {{"calibrate", {{"min_factor", 2}, {"max_factor", 1}}}}}),
              StatusIs(StatusCode::kInvalidArgument));
  // The inner spec is validated too.
  EXPECT_THAT(reg.Create({"naive", {{"calibrate", true}, {"bogus", 1}}}), StatusIs(StatusCode::kInvalidArgument));
}

TEST(CalibrateTest, LoadRejectsBrokenState) {
  const ForecasterRegistry reg = Builtins();
  const std::vector<double> y = {10, 12, 11, 13, 12, 14, 13, 15, 14, 16, 15, 17};
  auto m = FitOrDie(reg, {"naive", {{"calibrate", true}}}, y);
  auto env = ModelEnvelope(*m);
  ASSERT_THAT(env, IsOk());
  Json broken = *env;
  broken["state"].erase("steps");
  EXPECT_THAT(reg.Load(broken), StatusIs(StatusCode::kDataLoss));
  broken = *env;
  broken["state"]["errors"][0] = -1;
  EXPECT_THAT(reg.Load(broken), StatusIs(StatusCode::kDataLoss));
}

TEST(CalibrateTest, CombinationCanBeCalibrated) {
  const ForecasterRegistry reg = Builtins();
  Normal rng(5);
  const std::vector<double> y = RandomWalk(rng, 40);
  const Json models = Json::array({"naive", "mean"});
  auto cal = FitOrDie(reg, {"combination", {{"models", models}, {"calibrate", {{"origins", 4}}}}}, y);
  auto plain = FitOrDie(reg, {"combination", {{"models", models}}}, y);
  auto fc = cal->Predict(5, kLevels);
  ASSERT_THAT(fc, IsOk());
  EXPECT_EQ(fc->mean, plain->Predict(5, kLevels)->mean);
  auto loaded = reg.Deserialize(*SerializeModel(*cal));
  ASSERT_THAT(loaded, IsOk());
  EXPECT_EQ((*loaded)->Predict(5, kLevels)->intervals[0].lower, fc->intervals[0].lower);
}

}  // namespace
}  // namespace almanac::models
