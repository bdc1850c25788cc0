// VAR behaviour beyond the statsmodels goldens: bad input, stability notes, conditional
// forecasts (checked against direct Gaussian conditioning), serialization, bootstrap bands,
// simulation and spec validation.
#include <cmath>
#include <fstream>
#include <sstream>

#include <Eigen/Dense>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "almanac/models.h"

#include "core/testing/status_matchers.h"
#include "models/testing/model_testing.h"

namespace almanac::models {
namespace {

using testing::MacroData;

using ::almanac::testing::IsOk;
using ::almanac::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;

// Status code plus a gmock matcher on the message.
MATCHER_P2(StatusMatches, code, m, "") {
  const Status& s = ::almanac::testing::ToStatus(arg);
  *result_listener << "status is " << s.ToString();
  return s.code() == code && ::testing::ExplainMatchResult(m, s.message(), result_listener);
}

// A stationary VAR(1) simulated with a simple LCG (deterministic, no library RNG).
MultiInput Simulated(int k, int n, double rho, uint64_t seed = 7) {
  MultiInput d;
  for (int i = 0; i < k; ++i) d.names.push_back("v" + std::to_string(i));
  d.values.assign(static_cast<size_t>(k), std::vector<double>(static_cast<size_t>(n)));
  uint64_t s = seed;
  auto uni = [&] {
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<double>(s >> 11) * 0x1.0p-53 - 0.5;
  };
  std::vector<double> prev(static_cast<size_t>(k), 0.0);
  for (int t = 0; t < n; ++t)
    for (int i = 0; i < k; ++i) {
      double v = rho * prev[i] + 0.1 * prev[(i + 1) % k] + uni();
      d.values[i][t] = v;
      prev[i] = v;
    }
  d.start = Period::Parse("1970Q1").value();
  return d;
}

std::unique_ptr<MultivariateForecaster> FitVar(const Json& params, const MultiInput& d, const char* type = "var") {
  auto m = CreateMultivariate({type, params});
  EXPECT_THAT(m, IsOk());
  EXPECT_THAT((*m)->Fit(d), IsOk());
  return std::move(*m);
}

TEST(VarInputTest, MissingValueNamesVariableAndPeriod) {
  MultiInput d = MacroData();
  d.values[1][10] = kNaN;
  auto m = CreateMultivariate({"var", {{"lags", 2}}});
  EXPECT_THAT((*m)->Fit(d),
              StatusMatches(StatusCode::kInvalidArgument, AllOf(HasSubstr("us:realcons"), HasSubstr("1961Q4"))));
}

TEST(VarInputTest, TooFewObservationsSaysHowManyAreNeeded) {
  MultiInput d = Simulated(3, 12, 0.5);
  auto m = CreateMultivariate({"var", {{"lags", 3}}});
  // 3 + 9 + 1 + 3 = 16 needed.
  EXPECT_THAT((*m)->Fit(d), StatusMatches(StatusCode::kInvalidArgument, HasSubstr("needs at least 16")));
  EXPECT_THAT(SelectVarOrder(d, 4, VarTrend::kConstant),
              StatusMatches(StatusCode::kInvalidArgument, HasSubstr("too few")));
}

TEST(VarInputTest, CollinearSystemNamesTheVariables) {
  MultiInput d = Simulated(3, 80, 0.4);
  d.names.push_back("sum");
  std::vector<double> sum(80);
  for (int t = 0; t < 80; ++t) sum[t] = d.values[0][t] + d.values[2][t];
  d.values.push_back(sum);
  auto m = CreateMultivariate({"var", {{"lags", 1}}});
  Status s = (*m)->Fit(d);
  EXPECT_THAT(s, StatusMatches(StatusCode::kInvalidArgument, HasSubstr("collinear")));
  EXPECT_THAT(s.message(), HasSubstr("v0"));
  EXPECT_THAT(s.message(), HasSubstr("v2"));
  EXPECT_THAT(s.message(), HasSubstr("sum"));
  EXPECT_THAT(s.message(), ::testing::Not(HasSubstr("v1")));
}

TEST(VarInputTest, ConstantVariableIsNamed) {
  MultiInput d = Simulated(2, 60, 0.4);
  d.names.push_back("flat");
  d.values.push_back(std::vector<double>(60, 3.0));
  auto m = CreateMultivariate({"var", {{"lags", 1}}});
  EXPECT_THAT((*m)->Fit(d),
              StatusMatches(StatusCode::kInvalidArgument, AllOf(HasSubstr("flat"), HasSubstr("constant"))));
  auto b = CreateMultivariate({"bvar", {{"lags", 1}}});
  EXPECT_THAT((*b)->Fit(d), StatusMatches(StatusCode::kInvalidArgument, HasSubstr("flat")));
}

TEST(VarInputTest, AlignSeriesChecksFrequencyAndGaps) {
  TimeSeries q = TimeSeries::FromValues(Period::Parse("2000Q1").value(), {1, 2, 3, 4, 5}).value();
  TimeSeries m = TimeSeries::FromValues(Period::Parse("2000-01").value(), {1, 2, 3}).value();
  std::vector<std::string> names = {"gdp", "cpi"};
  std::vector<TimeSeries> both = {q, m};
  EXPECT_THAT(AlignSeries(names, both), StatusMatches(StatusCode::kInvalidArgument,
                                                      AllOf(HasSubstr("mismatched frequencies"), HasSubstr("cpi"))));
  TimeSeries q2 = TimeSeries::FromValues(Period::Parse("1999Q4").value(), {0, 1, kNaN, 3, 4}).value();
  std::vector<TimeSeries> gap = {q, q2};
  EXPECT_THAT(AlignSeries(names, gap),
              StatusMatches(StatusCode::kInvalidArgument, AllOf(HasSubstr("cpi"), HasSubstr("2000Q2"))));
  TimeSeries q3 = TimeSeries::FromValues(Period::Parse("2000Q2").value(), {7, 8, 9, 10, 11, 12}).value();
  std::vector<TimeSeries> ok = {q, q3};
  auto a = AlignSeries(names, ok);
  ASSERT_THAT(a, IsOk());
  EXPECT_EQ(a->start->ToString(), "2000Q2");
  EXPECT_EQ(a->size(), 4);
  EXPECT_EQ(a->values[0][0], 2);
  EXPECT_EQ(a->values[1][3], 10);
}

TEST(VarStabilityTest, ExplosiveSystemFitsWithANoteNamingTheVariables) {
  MultiInput d = Simulated(3, 120, 0.3);
  // Make v1 explosive: v1_t = 1.03 v1_{t-1} + noise.
  for (int t = 1; t < 120; ++t) d.values[1][t] = 1.03 * d.values[1][t - 1] + d.values[1][t] * 0.1;
  auto m = FitVar({{"lags", 1}}, d);
  auto desc = m->Describe();
  ASSERT_THAT(desc, IsOk());
  EXPECT_FALSE(desc->stable);
  EXPECT_GE(desc->eigen_moduli[0], 1.0);
  ASSERT_FALSE(desc->notes.empty());
  EXPECT_THAT(desc->notes[0], AllOf(HasSubstr("not stable"), HasSubstr("v1")));
  EXPECT_THAT(desc->notes[0], ::testing::Not(HasSubstr("v0")));
  auto fc = m->Predict({.horizon = 4});
  ASSERT_THAT(fc, IsOk());
  EXPECT_THAT(fc->notes, ::testing::Contains(HasSubstr("not stable")));
}

// Joint covariance of the stacked forecast errors, written out independently of the library:
// Cov(e_h, e_s) = sum_{j=1..min(h,s)} Phi_{h-j} Sigma Phi_{s-j}'.
TEST(VarConditionalTest, EqualsGaussianConditioningOfTheJointForecast) {
  auto m = FitVar({{"lags", 2}}, MacroData());
  auto d = m->Describe().value();
  const int k = 3, p = 2, H = 6;
  std::vector<Eigen::MatrixXd> a(p, Eigen::MatrixXd(k, k));
  for (int j = 0; j < p; ++j)
    for (int e = 0; e < k; ++e)
      for (int v = 0; v < k; ++v) a[j](e, v) = d.coefficients[1 + k * j + v][e];
  std::vector<Eigen::MatrixXd> phi = {Eigen::MatrixXd::Identity(k, k)};
  for (int i = 1; i < H; ++i) {
    Eigen::MatrixXd s = Eigen::MatrixXd::Zero(k, k);
    for (int j = 1; j <= std::min(i, p); ++j) s += phi[i - j] * a[j - 1];
    phi.push_back(s);
  }
  Eigen::MatrixXd sigma(k, k);
  for (int i = 0; i < k; ++i)
    for (int j = 0; j < k; ++j) sigma(i, j) = d.sigma_u[i][j];
  Eigen::MatrixXd joint(H * k, H * k);
  for (int h = 1; h <= H; ++h)
    for (int s = 1; s <= H; ++s) {
      Eigen::MatrixXd c = Eigen::MatrixXd::Zero(k, k);
      for (int j = 1; j <= std::min(h, s); ++j) c += phi[h - j] * sigma * phi[s - j].transpose();
      joint.block((h - 1) * k, (s - 1) * k, k, k) = c;
    }
  auto base = m->Predict({.horizon = H, .levels = {90}}).value();
  Eigen::VectorXd mu(H * k);
  for (int h = 0; h < H; ++h)
    for (int i = 0; i < k; ++i) mu(h * k + i) = base.mean[i][h];
  // Condition GDP growth at steps 1, 2 and 4, consumption at step 3.
  PathCondition gdp{"us:realgdp", {-0.01, -0.005, kNaN, 0.002, kNaN, kNaN}};
  PathCondition cons{"us:realcons", {kNaN, kNaN, -0.004, kNaN, kNaN, kNaN}};
  auto cond = m->Predict({.horizon = H, .levels = {90}, .conditions = {gdp, cons}});
  ASSERT_THAT(cond, IsOk());
  std::vector<int> c_idx = {0 * k + 0, 1 * k + 0, 3 * k + 0, 2 * k + 1};
  std::vector<double> c_val = {-0.01, -0.005, 0.002, -0.004};
  const int q = 4, n = H * k;
  Eigen::MatrixXd scc(q, q), suc(n, q);
  Eigen::VectorXd gap(q);
  for (int a1 = 0; a1 < q; ++a1) {
    gap(a1) = c_val[a1] - mu(c_idx[a1]);
    for (int a2 = 0; a2 < q; ++a2) scc(a1, a2) = joint(c_idx[a1], c_idx[a2]);
    for (int r = 0; r < n; ++r) suc(r, a1) = joint(r, c_idx[a1]);
  }
  const Eigen::VectorXd mu_c = mu + suc * scc.ldlt().solve(gap);
  const Eigen::MatrixXd cov_c = joint - suc * scc.ldlt().solve(suc.transpose());
  const double z = IntervalZ(90);
  for (int h = 0; h < H; ++h)
    for (int i = 0; i < k; ++i) {
      const int r = h * k + i;
      EXPECT_NEAR(cond->mean[i][h], mu_c(r), 1e-12) << "h " << h << " var " << i;
      const double sd = std::sqrt(std::max(0.0, cov_c(r, r)));
      EXPECT_NEAR(cond->intervals[0].upper[i][h] - cond->mean[i][h], z * sd, 1e-9) << "h " << h << " var " << i;
    }
  // Conditioned values are met exactly, with zero-width intervals.
  EXPECT_EQ(cond->mean[0][0], -0.01);
  EXPECT_EQ(cond->mean[1][2], -0.004);
  EXPECT_EQ(cond->intervals[0].lower[0][1], -0.005);
  EXPECT_EQ(cond->intervals[0].upper[0][1], -0.005);
  // Conditioning with no paths is the unconditional forecast.
  auto none = m->Predict({.horizon = H, .levels = {90}, .conditions = {}}).value();
  EXPECT_EQ(none.mean, base.mean);
}

TEST(VarConditionalTest, BadPathsAreRejected) {
  auto m = FitVar({{"lags", 2}}, MacroData());
  PathCondition short_path{"us:realgdp", {0.01, 0.01}};
  EXPECT_THAT(m->Predict({.horizon = 4, .conditions = {short_path}}),
              StatusMatches(StatusCode::kInvalidArgument,
                            AllOf(HasSubstr("us:realgdp"), HasSubstr("has 2 values"), HasSubstr("horizon is 4"))));
  PathCondition unknown{"us:gdp", {0.01, kNaN, kNaN, kNaN}};
  EXPECT_THAT(m->Predict({.horizon = 4, .conditions = {unknown}}),
              StatusMatches(StatusCode::kInvalidArgument, HasSubstr("unknown variable 'us:gdp'")));
}

TEST(VarConditionalTest, SimulatedPathsMeetConditionsAndMatchTheMoments) {
  auto m = FitVar({{"lags", 2}, {"draws", 4000}}, MacroData());
  PathCondition gdp{"us:realgdp", {0.01, kNaN, kNaN}};
  auto f = m->Predict({.horizon = 3, .levels = {95}, .conditions = {gdp}, .keep_samples = true});
  ASSERT_THAT(f, IsOk());
  ASSERT_EQ(f->samples.size(), 3u);
  ASSERT_EQ(f->samples[0][0].size(), 4000u);
  for (double v : f->samples[0][0]) EXPECT_EQ(v, 0.01);
  // Sample mean of investment at step 2 within 4 standard errors of the analytic mean.
  double s = 0, ss = 0;
  for (double v : f->samples[2][1]) {
    s += v;
    ss += v * v;
  }
  const double mean = s / 4000, sd = std::sqrt(ss / 4000 - mean * mean);
  EXPECT_NEAR(mean, f->mean[2][1], 4 * sd / std::sqrt(4000.0));
  EXPECT_NEAR(sd, (f->intervals[0].upper[2][1] - f->mean[2][1]) / IntervalZ(95), 0.05 * sd);
}

TEST(VarSerializationTest, RoundTripGivesIdenticalBytesAndForecasts) {
  for (const char* type : {"var", "bvar"}) {
    SCOPED_TRACE(type);
    Json params = std::string(type) == "var" ? Json{{"max_lags", 4}, {"ic", "bic"}} : Json{{"lags", 2}, {"draws", 200}};
    auto m = FitVar(params, MacroData(), type);
    auto bytes = SerializeMultivariate(*m);
    ASSERT_THAT(bytes, IsOk());
    EXPECT_THAT(*bytes, HasSubstr("\"format\":\"almanac-model\""));
    auto again = DeserializeMultivariate(*bytes);
    ASSERT_THAT(again, IsOk());
    EXPECT_EQ(SerializeMultivariate(**again).value(), *bytes);
    auto f1 = m->Predict({.horizon = 5}).value();
    auto f2 = (*again)->Predict({.horizon = 5}).value();
    EXPECT_EQ(f1.mean, f2.mean);
    EXPECT_EQ(f1.intervals[1].upper, f2.intervals[1].upper);
    // A second fit of the same data gives the same bytes.
    auto m2 = FitVar(params, MacroData(), type);
    EXPECT_EQ(SerializeMultivariate(*m2).value(), *bytes);
  }
  EXPECT_THAT(DeserializeMultivariate("{\"format\":\"almanac-model\",\"format_version\":1,\"spec\":{\"type\":\"var\"},"
                                      "\"state\":{\"names\":[\"a\"]}}"),
              StatusIs(StatusCode::kDataLoss));
  EXPECT_THAT(DeserializeMultivariate("{\"format\":\"other\"}"), StatusIs(StatusCode::kInvalidArgument));
}

TEST(VarIrfTest, BootstrapBandsAreDeterministicAndBracketThePointEstimate) {
  auto m = FitVar({{"lags", 2}}, MacroData());
  IrfOptions o{.periods = 8, .orthogonal = true, .replications = 200, .level = 90, .seed = 3};
  auto a = m->ImpulseResponses(o);
  ASSERT_THAT(a, IsOk());
  auto b = m->ImpulseResponses(o);
  EXPECT_EQ(a->lower, b->lower);
  EXPECT_EQ(a->upper, b->upper);
  EXPECT_EQ(a->replications, 200);
  int inside = 0, total = 0;
  for (int h = 0; h <= 8; ++h)
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 3; ++j) {
        EXPECT_LE(a->lower[h][i][j], a->upper[h][i][j]);
        inside +=
            a->lower[h][i][j] <= a->response[h][i][j] + 1e-15 && a->response[h][i][j] <= a->upper[h][i][j] + 1e-15;
        ++total;
      }
  EXPECT_GE(inside, total * 9 / 10);
  o.seed = 4;
  EXPECT_NE(m->ImpulseResponses(o)->lower, a->lower);
}

TEST(VarGrangerTest, ErrorsNameTheProblem) {
  auto m = FitVar({{"lags", 2}}, MacroData());
  std::vector<std::string> caused = {"us:realgdp"}, bad = {"us:gdp"}, same = {"us:realgdp"};
  EXPECT_THAT(m->Granger(caused, bad), StatusMatches(StatusCode::kNotFound, HasSubstr("us:gdp")));
  EXPECT_THAT(m->Granger(caused, same), StatusMatches(StatusCode::kInvalidArgument, HasSubstr("both")));
  // Causing defaults to all other variables.
  auto all = m->Granger(caused, {});
  ASSERT_THAT(all, IsOk());
  EXPECT_EQ(all->causing.size(), 2u);
  EXPECT_EQ(all->df_num, 4);
}

TEST(VarSpecTest, ValidationNamesTheParameter) {
  EXPECT_THAT(CreateMultivariate({"var", {{"lag", 2}}}),
              StatusMatches(StatusCode::kInvalidArgument, HasSubstr("did you mean 'lags'")));
  EXPECT_THAT(CreateMultivariate({"var", {{"ic", "aicc"}}}),
              StatusMatches(StatusCode::kInvalidArgument, HasSubstr("aicc")));
  EXPECT_THAT(CreateMultivariate({"var", {{"trend", "t"}}}),
              StatusMatches(StatusCode::kInvalidArgument, HasSubstr("trend")));
  EXPECT_THAT(CreateMultivariate({"vra", {}}), StatusMatches(StatusCode::kNotFound, HasSubstr("did you mean 'var'")));
  EXPECT_THAT(CreateMultivariate({"bvar", {{"theta", 1.5}}}),
              StatusMatches(StatusCode::kInvalidArgument, HasSubstr("theta")));
  auto m = CreateMultivariate({"var", {}});
  EXPECT_THAT((*m)->Predict({}), StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_THAT(SerializeMultivariate(**m), StatusIs(StatusCode::kFailedPrecondition));
}

TEST(VarForecastTest, TrendTermsAndZeroLags) {
  // A VAR(0) with a constant forecasts the sample mean.
  MultiInput d = Simulated(2, 50, 0.2);
  auto m = FitVar({{"lags", 0}}, d);
  auto f = m->Predict({.horizon = 2}).value();
  double mean0 = 0;
  for (double v : d.values[0]) mean0 += v / 50;
  EXPECT_NEAR(f.mean[0][0], mean0, 1e-12);
  EXPECT_NEAR(f.mean[0][1], mean0, 1e-12);
  // A deterministic linear trend is extrapolated exactly by "ct".
  MultiInput lin = d;
  for (int t = 0; t < 50; ++t) lin.values[1][t] = 2 + 0.5 * (t + 1) + 1e-3 * d.values[1][t];
  auto mt = FitVar({{"lags", 1}, {"trend", "ct"}}, lin);
  auto ft = mt->Predict({.horizon = 3}).value();
  EXPECT_NEAR(ft.mean[1][2], 2 + 0.5 * 53, 0.01);
}

}  // namespace
}  // namespace almanac::models
