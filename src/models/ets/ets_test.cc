// The ets / auto_ets forecasters through the public interface: parameters, edge cases,
// fallbacks, serialisation round trips and determinism. Comparisons with R are in
// ets_golden_test.cc.
#include <cmath>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "almanac/core/json.h"
#include "almanac/models.h"

#include "core/testing/status_matchers.h"

namespace almanac::models {
namespace {

using ::almanac::testing::StatusIs;
using ::testing::HasSubstr;

const std::vector<double> kAirPassengers = {
    112, 118, 132, 129, 121, 135, 148, 148, 136, 119, 104, 118, 115, 126, 141, 135, 125, 149, 170, 170, 158,
    133, 114, 140, 145, 150, 178, 163, 172, 178, 199, 199, 184, 162, 146, 166, 171, 180, 193, 181, 183, 218,
    230, 242, 209, 191, 172, 194, 196, 196, 236, 235, 229, 243, 264, 272, 237, 211, 180, 201, 204, 188, 235,
    227, 234, 264, 302, 293, 259, 229, 203, 229, 242, 233, 267, 269, 270, 315, 364, 347, 312, 274, 237, 278,
    284, 277, 317, 313, 318, 374, 413, 405, 355, 306, 271, 306, 315, 301, 356, 348, 355, 422, 465, 467, 404,
    347, 305, 336, 340, 318, 362, 348, 363, 435, 491, 505, 404, 359, 310, 337, 360, 342, 406, 396, 420, 472,
    548, 559, 463, 407, 362, 405, 417, 391, 419, 461, 472, 535, 622, 606, 508, 461, 390, 432};

// R's WWWusage (non-seasonal, 100 values).
const std::vector<double> kWWWusage = {
    88,  84,  85,  85,  84,  85,  83,  85,  88,  89,  91,  99,  104, 112, 126, 138, 146, 151, 150, 148,
    147, 149, 143, 132, 131, 139, 147, 150, 148, 145, 140, 134, 131, 131, 129, 126, 126, 132, 137, 140,
    142, 150, 159, 167, 170, 171, 172, 172, 174, 175, 172, 172, 174, 174, 169, 165, 156, 142, 131, 121,
    112, 104, 102, 99,  99,  95,  88,  84,  84,  87,  89,  88,  85,  86,  89,  91,  91,  94,  101, 110,
    121, 135, 145, 149, 156, 165, 171, 175, 177, 182, 193, 204, 208, 210, 215, 222, 228, 226, 222, 220};

class EtsTest : public ::testing::Test {
 protected:
  EtsTest() { RegisterBuiltinModels(reg_); }

  Result<std::unique_ptr<Forecaster>> Fit(const std::string& type, Json params, std::span<const double> y, int period) {
    ALMANAC_ASSIGN_OR_RETURN(auto m, reg_.Create({type, std::move(params)}));
    ALMANAC_RETURN_IF_ERROR(m->Fit({y, period}));
    return m;
  }

  static void ExpectFinite(const Forecast& f) {
    for (double v : f.mean) EXPECT_TRUE(std::isfinite(v));
    for (const auto& iv : f.intervals) {
      for (double v : iv.lower) EXPECT_TRUE(std::isfinite(v));
      for (double v : iv.upper) EXPECT_TRUE(std::isfinite(v));
    }
  }

  // Serialise, deserialise, serialise again: identical bytes and identical forecasts.
  void ExpectRoundTrip(const Forecaster& m, int h) {
    ASSERT_OK_AND_ASSIGN(std::string bytes, SerializeModel(m));
    ASSERT_OK_AND_ASSIGN(auto back, reg_.Deserialize(bytes));
    ASSERT_OK_AND_ASSIGN(std::string again, SerializeModel(*back));
    EXPECT_EQ(bytes, again);
    const double levels[] = {80, 95};
    ASSERT_OK_AND_ASSIGN(Forecast a, m.Predict(h, levels));
    ASSERT_OK_AND_ASSIGN(Forecast b, back->Predict(h, levels));
    EXPECT_EQ(a.mean, b.mean);
    ASSERT_EQ(a.intervals.size(), b.intervals.size());
    for (size_t k = 0; k < a.intervals.size(); ++k) {
      EXPECT_EQ(a.intervals[k].lower, b.intervals[k].lower);
      EXPECT_EQ(a.intervals[k].upper, b.intervals[k].upper);
    }
    EXPECT_EQ(a.notes, b.notes);
    const ModelDescription da = m.Describe(), db = back->Describe();
    EXPECT_EQ(da.method, db.method);
    EXPECT_EQ(CompactJson(da.params), CompactJson(db.params));
    const std::vector<double> fa = m.Fitted(), fb = back->Fitted();
    ASSERT_EQ(fa.size(), fb.size());
    for (size_t i = 0; i < fa.size(); ++i) EXPECT_TRUE(fa[i] == fb[i] || (std::isnan(fa[i]) && std::isnan(fb[i])));
  }

  ForecasterRegistry reg_;
};

TEST_F(EtsTest, AutoSelectsAndDescribes) {
  ASSERT_OK_AND_ASSIGN(auto m, Fit("auto_ets", Json::object(), kAirPassengers, 12));
  const ModelDescription d = m->Describe();
  EXPECT_EQ(d.type, "auto_ets");
  EXPECT_EQ(d.method, "ETS(M,Ad,M)");
  EXPECT_EQ(d.nobs, 144);
  for (const char* k : {"alpha", "beta", "gamma", "phi", "initial_states", "period"})
    EXPECT_TRUE(d.params.contains(k)) << k;
  EXPECT_EQ(d.params["initial_states"].size(), 14u);  // l, b, s1..s12
  EXPECT_TRUE(std::isfinite(d.loglik) && std::isfinite(d.aic) && std::isfinite(d.aicc) && std::isfinite(d.bic));
  EXPECT_GT(d.sigma2, 0);
  EXPECT_THAT(d.notes, ::testing::Contains(HasSubstr("class 3")));
  const std::vector<double> fitted = m->Fitted();
  ASSERT_EQ(fitted.size(), kAirPassengers.size());
  for (size_t i = 0; i < fitted.size(); ++i) EXPECT_NEAR(fitted[i], kAirPassengers[i], 0.25 * kAirPassengers[i]);
}

TEST_F(EtsTest, FixedModelStringsAndDamping) {
  ASSERT_OK_AND_ASSIGN(auto a, Fit("ets", {{"model", "AAdN"}}, kWWWusage, 1));
  EXPECT_EQ(a->Describe().method, "ETS(A,Ad,N)");
  ASSERT_OK_AND_ASSIGN(auto b, Fit("ets", {{"model", "AAN"}, {"damped", false}}, kWWWusage, 1));
  EXPECT_EQ(b->Describe().method, "ETS(A,A,N)");
  ASSERT_OK_AND_ASSIGN(auto c, Fit("ets", {{"model", "ZZN"}, {"damped", true}}, kWWWusage, 1));
  EXPECT_THAT(c->Describe().method, HasSubstr("d,N)"));
  ASSERT_OK_AND_ASSIGN(auto d, Fit("ets", {{"model", "MAM"}, {"damped", false}}, kAirPassengers, 12));
  EXPECT_EQ(d->Describe().method, "ETS(M,A,M)");
  EXPECT_THAT(Fit("ets", {{"model", "AAdN"}, {"damped", false}}, kWWWusage, 1),
              StatusIs(StatusCode::kInvalidArgument, "damped"));
}

TEST_F(EtsTest, RejectsBadParameters) {
  const Json bad[] = {{{"model", "XYZ"}},    {{"model", "AA"}},    {{"model", "NAN"}}, {{"ic", "hqc"}},
                      {{"bounds", "loose"}}, {{"opt_crit", "ml"}}, {{"nmse", 0}},      {{"nmse", 31}},
                      {{"alpha", 1.5}},      {{"period", 0}},      {{"nsim", 1}},      {{"model", "ANdN"}}};
  for (const Json& p : {Json{{"maxit", 0}}, Json{{"seed", "x"}}})
    EXPECT_THAT(reg_.Create({"ets", p}), StatusIs(StatusCode::kInvalidArgument)) << p.dump();
  for (const Json& p : bad) EXPECT_THAT(reg_.Create({"ets", p}), StatusIs(StatusCode::kInvalidArgument)) << p.dump();
  // auto_ets has no `model`.
  EXPECT_THAT(reg_.Create({"auto_ets", {{"model", "ANN"}}}), StatusIs(StatusCode::kInvalidArgument, "model"));
  EXPECT_THAT(reg_.Create({"ets", {{"damped", "yes"}}}), StatusIs(StatusCode::kInvalidArgument));
}

TEST_F(EtsTest, ForbiddenCombinations) {
  for (const char* model : {"ANM", "AMN", "MMA", "AAM"})
    EXPECT_THAT(Fit("ets", {{"model", model}}, kAirPassengers, 12), StatusIs(StatusCode::kInvalidArgument, "forbidden"))
        << model;
  EXPECT_THAT(Fit("ets", {{"model", "MAN"}, {"additive_only", true}}, kAirPassengers, 12),
              StatusIs(StatusCode::kInvalidArgument, "forbidden"));
  EXPECT_THAT(Fit("ets", {{"model", "ANN"}, {"damped", true}}, kAirPassengers, 12),
              StatusIs(StatusCode::kInvalidArgument, "damped"));
  // Without R's restrictions every combination can be fitted (simulated intervals).
  ASSERT_OK_AND_ASSIGN(auto anm,
                       Fit("ets", {{"model", "ANM"}, {"restrict", false}, {"nsim", 500}}, kAirPassengers, 12));
  EXPECT_EQ(anm->Describe().method, "ETS(A,N,M)");
  EXPECT_THAT(anm->Describe().notes, ::testing::Contains(HasSubstr("simulated")));
  const double lv[] = {95};
  ASSERT_OK_AND_ASSIGN(Forecast fa, anm->Predict(24, lv));
  ExpectFinite(fa);
  ASSERT_OK_AND_ASSIGN(auto amn, Fit("ets", {{"model", "AMdN"}, {"restrict", false}, {"nsim", 500}}, kWWWusage, 1));
  EXPECT_EQ(amn->Describe().method, "ETS(A,Md,N)");
  std::vector<double> shifted = kAirPassengers;
  for (double& v : shifted) v -= 200;
  EXPECT_THAT(Fit("ets", {{"model", "ANM"}, {"restrict", false}}, shifted, 12),
              StatusIs(StatusCode::kInvalidArgument, "multiplicative season needs strictly positive"));
  // Multiplicative trends are possible when asked for explicitly or allowed.
  ASSERT_OK_AND_ASSIGN(auto m, Fit("ets", {{"model", "MMN"}}, kWWWusage, 1));
  EXPECT_THAT(m->Describe().method, HasSubstr("M,M"));
  EXPECT_THAT(m->Describe().notes, ::testing::Contains(HasSubstr("simulated")));
}

TEST_F(EtsTest, AdditiveOnlyAndIcChoices) {
  ASSERT_OK_AND_ASSIGN(auto a, Fit("auto_ets", {{"additive_only", true}}, kAirPassengers, 12));
  EXPECT_THAT(a->Describe().method, ::testing::StartsWith("ETS(A,"));
  EXPECT_THAT(a->Describe().method, ::testing::Not(HasSubstr("M")));
  ASSERT_OK_AND_ASSIGN(auto b, Fit("auto_ets", {{"ic", "bic"}}, kWWWusage, 1));
  ASSERT_OK_AND_ASSIGN(auto c, Fit("auto_ets", {{"ic", "aic"}}, kWWWusage, 1));
  EXPECT_FALSE(b->Describe().method.empty());
  EXPECT_FALSE(c->Describe().method.empty());
}

TEST_F(EtsTest, LargerEvaluationBudgetDoesNotWorsenTheFit) {
  // AirPassengers' ETS(M,Ad,M) stops at R's 2000 evaluations; a larger budget continues the
  // same search, so its likelihood can only improve.
  ASSERT_OK_AND_ASSIGN(auto a, Fit("ets", {{"model", "MAdM"}}, kAirPassengers, 12));
  ASSERT_OK_AND_ASSIGN(auto b, Fit("ets", {{"model", "MAdM"}, {"maxit", 6000}}, kAirPassengers, 12));
  EXPECT_GE(b->Describe().loglik, a->Describe().loglik);
}

TEST_F(EtsTest, SeasonalModelOnAnnualDataIsAnError) {
  EXPECT_THAT(Fit("ets", {{"model", "AAA"}}, kWWWusage, 1), StatusIs(StatusCode::kInvalidArgument, "non-seasonal"));
  // `period` overrides the input's period.
  ASSERT_OK_AND_ASSIGN(auto m, Fit("ets", {{"model", "AAA"}, {"period", 4}}, kWWWusage, 1));
  EXPECT_EQ(m->Describe().params["period"], 4);
  // Seasonal periods above 24: explicit seasonal models fail, automatic ones drop the season.
  EXPECT_THAT(Fit("ets", {{"model", "ANA"}}, kAirPassengers, 52), StatusIs(StatusCode::kInvalidArgument, "too high"));
  ASSERT_OK_AND_ASSIGN(auto w, Fit("auto_ets", Json::object(), kAirPassengers, 52));
  EXPECT_THAT(w->Describe().method, ::testing::EndsWith(",N)"));
  EXPECT_THAT(w->Describe().notes, ::testing::Contains(HasSubstr("> 24")));
}

TEST_F(EtsTest, NonPositiveData) {
  std::vector<double> y = kWWWusage;
  y[10] = 0;
  EXPECT_THAT(Fit("ets", {{"model", "MNN"}}, y, 1), StatusIs(StatusCode::kInvalidArgument, "strictly positive"));
  EXPECT_THAT(Fit("ets", {{"model", "MAdN"}}, y, 1), StatusIs(StatusCode::kInvalidArgument, "strictly positive"));
  // The automatic choice skips multiplicative errors (hence multiplicative seasons) silently.
  std::vector<double> ap = kAirPassengers;
  for (double& v : ap) v -= 300;
  ASSERT_OK_AND_ASSIGN(auto m, Fit("auto_ets", Json::object(), ap, 12));
  EXPECT_THAT(m->Describe().method, ::testing::StartsWith("ETS(A,"));
  EXPECT_THAT(m->Describe().method, ::testing::Not(HasSubstr("M")));
}

TEST_F(EtsTest, ConstantSeriesGetsSimpleSmoothingWithoutNaN) {
  const std::vector<double> y(30, 5.0);
  for (const char* type : {"auto_ets", "ets"}) {
    ASSERT_OK_AND_ASSIGN(auto m, Fit(type, Json::object(), y, 4));
    const ModelDescription d = m->Describe();
    EXPECT_EQ(d.method, "ETS(A,N,N)");
    EXPECT_DOUBLE_EQ(d.params["alpha"].get<double>(), 0.99999);
    EXPECT_EQ(d.sigma2, 0);
    EXPECT_THAT(d.notes, ::testing::Contains(HasSubstr("constant series")));
    const double levels[] = {80, 95};
    ASSERT_OK_AND_ASSIGN(Forecast f, m->Predict(8, levels));
    for (int h = 0; h < 8; ++h) {
      EXPECT_DOUBLE_EQ(f.mean[h], 5.0);
      EXPECT_DOUBLE_EQ(f.intervals[1].lower[h], 5.0);
      EXPECT_DOUBLE_EQ(f.intervals[1].upper[h], 5.0);
    }
    ExpectRoundTrip(*m, 8);
  }
  ASSERT_OK_AND_ASSIGN(auto e, Fit("ets", {{"model", "MAM"}}, y, 4));
  EXPECT_THAT(e->Describe().notes, ::testing::Contains(HasSubstr("requested model was not used")));
}

TEST_F(EtsTest, PerfectFitHasNoNaN) {
  // A straight line: ETS(A,A,N) fits exactly, the likelihood is infinite (as in R).
  std::vector<double> y;
  for (int t = 1; t <= 30; ++t) y.push_back(t);
  ASSERT_OK_AND_ASSIGN(auto m, Fit("auto_ets", Json::object(), y, 1));
  const ModelDescription d = m->Describe();
  EXPECT_EQ(d.method, "ETS(A,A,N)");
  EXPECT_FALSE(std::isnan(d.aicc));
  EXPECT_EQ(d.sigma2, 0);
  EXPECT_THAT(d.notes, ::testing::Contains(HasSubstr("perfect")));
  const double levels[] = {95};
  ASSERT_OK_AND_ASSIGN(Forecast f, m->Predict(3, levels));
  ExpectFinite(f);
  EXPECT_NEAR(f.mean[2], 33, 1e-9);
  ExpectRoundTrip(*m, 3);
}

TEST_F(EtsTest, ShortSeriesFallBackAsR) {
  // 6 observations: R fits Holt or SES by least squares and compares their variances.
  const std::vector<double> y6(kWWWusage.begin(), kWWWusage.begin() + 6);
  ASSERT_OK_AND_ASSIGN(auto a, Fit("auto_ets", Json::object(), y6, 1));
  EXPECT_EQ(a->Describe().method, "ETS(A,N,N)");
  EXPECT_TRUE(std::isnan(a->Describe().loglik));
  EXPECT_THAT(a->Describe().notes, ::testing::Contains(HasSubstr("too few observations")));
  const double levels[] = {95};
  ASSERT_OK_AND_ASSIGN(Forecast f, a->Predict(5, levels));
  ExpectFinite(f);
  EXPECT_THAT(f.notes, ::testing::Contains(HasSubstr("too few observations")));
  ExpectRoundTrip(*a, 5);
  // Two observations still give a model.
  ASSERT_OK_AND_ASSIGN(auto two, Fit("auto_ets", Json::object(), std::vector<double>{1, 3}, 1));
  ASSERT_OK_AND_ASSIGN(Forecast f2, two->Predict(3, levels));
  ExpectFinite(f2);
  // Seasonal request on 8 quarters: seasonal Holt-Winters.
  const std::vector<double> q8 = {160.1, 129.7, 84.8, 120.1, 160.1, 124.9, 84.8, 116.9};
  ASSERT_OK_AND_ASSIGN(auto s, Fit("ets", {{"model", "AAA"}}, q8, 4));
  EXPECT_EQ(s->Describe().method, "ETS(A,A,A)");
  // ... and with fewer than two full seasons the season is given up, with a note.
  const std::vector<double> q7(q8.begin(), q8.begin() + 7);
  ASSERT_OK_AND_ASSIGN(auto s7, Fit("ets", {{"model", "AAA"}}, q7, 4));
  EXPECT_THAT(s7->Describe().notes, ::testing::Contains(HasSubstr("seasonal component could not be estimated")));
  // Too few for a seasonal model at all: the season is dropped.
  const std::vector<double> q3(q8.begin(), q8.begin() + 3);
  ASSERT_OK_AND_ASSIGN(auto s3, Fit("ets", {{"model", "ANA"}}, q3, 4));
  EXPECT_THAT(s3->Describe().method, ::testing::EndsWith(",N)"));
}

TEST_F(EtsTest, MissingValuesUseTheLongestStretch) {
  std::vector<double> y = kAirPassengers;
  y[29] = std::nan("");
  ASSERT_OK_AND_ASSIGN(auto m, Fit("auto_ets", Json::object(), y, 12));
  EXPECT_EQ(m->Describe().nobs, 114);
  EXPECT_THAT(m->Describe().notes, ::testing::Contains(HasSubstr("longest contiguous stretch")));
  const std::vector<double> fitted = m->Fitted();
  ASSERT_EQ(fitted.size(), y.size());
  EXPECT_TRUE(std::isnan(fitted[0]) && std::isnan(fitted[29]));
  EXPECT_FALSE(std::isnan(fitted[30]));
  ExpectRoundTrip(*m, 12);
  // The longest stretch ends before the input does: forecasts still start after the input.
  std::vector<double> z = kAirPassengers;
  z[99] = std::nan("");
  ASSERT_OK_AND_ASSIGN(auto k, Fit("auto_ets", Json::object(), z, 12));
  EXPECT_EQ(k->Describe().nobs, 99);
  const double levels[] = {80};
  ASSERT_OK_AND_ASSIGN(Forecast f, k->Predict(3, levels));
  EXPECT_EQ(f.mean.size(), 3u);
  EXPECT_THAT(f.notes, ::testing::Contains(HasSubstr("after the input")));
  ExpectRoundTrip(*k, 3);
  // Leading and trailing gaps, and nothing at all.
  std::vector<double> lead = kWWWusage;
  lead[0] = lead[1] = std::nan("");
  ASSERT_OK_AND_ASSIGN(auto l, Fit("auto_ets", Json::object(), lead, 1));
  EXPECT_EQ(l->Describe().nobs, 98);
  EXPECT_THAT(Fit("auto_ets", Json::object(), std::vector<double>(5, std::nan("")), 1),
              StatusIs(StatusCode::kInvalidArgument, "no observations"));
  EXPECT_THAT(Fit("auto_ets", Json::object(), std::vector<double>{}, 1),
              StatusIs(StatusCode::kInvalidArgument, "no observations"));
  std::vector<double> inf = kWWWusage;
  inf[3] = HUGE_VAL;
  EXPECT_THAT(Fit("auto_ets", Json::object(), inf, 1), StatusIs(StatusCode::kInvalidArgument, "infinite"));
}

TEST_F(EtsTest, Horizons) {
  ASSERT_OK_AND_ASSIGN(auto m, Fit("ets", {{"model", "AAdN"}}, kWWWusage, 1));
  const double levels[] = {80, 95};
  EXPECT_THAT(m->Predict(0, levels), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(m->Predict(-3, levels), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(m->Predict(kMaxHorizon + 1, levels), StatusIs(StatusCode::kInvalidArgument));
  const double bad_level[] = {100};
  EXPECT_THAT(m->Predict(3, bad_level), StatusIs(StatusCode::kInvalidArgument));
  ASSERT_OK_AND_ASSIGN(Forecast f, m->Predict(kMaxHorizon, levels));
  EXPECT_EQ(f.mean.size(), static_cast<size_t>(kMaxHorizon));
  ExpectFinite(f);
  // The damped forecast converges; the intervals widen monotonically.
  EXPECT_NEAR(f.mean[kMaxHorizon - 1], f.mean[kMaxHorizon - 2], 1e-9);
  for (int h = 1; h < kMaxHorizon; ++h)
    EXPECT_GE(f.intervals[1].upper[h] - f.mean[h], f.intervals[1].upper[h - 1] - f.mean[h - 1] - 1e-9);
  // A long horizon for a multiplicative-seasonal (class 3) and a simulated model.
  ASSERT_OK_AND_ASSIGN(auto s, Fit("ets", {{"model", "MAdM"}}, kAirPassengers, 12));
  ASSERT_OK_AND_ASSIGN(Forecast fs, s->Predict(600, levels));
  ExpectFinite(fs);
  ASSERT_OK_AND_ASSIGN(auto sim, Fit("ets", {{"model", "MMdN"}, {"nsim", 500}}, kWWWusage, 1));
  ASSERT_OK_AND_ASSIGN(Forecast fm, sim->Predict(500, levels));
  ExpectFinite(fm);
}

TEST_F(EtsTest, ExplodingForecastIsAnErrorNotNaN) {
  // An undamped multiplicative trend of 20% a step overflows long before 10000 steps.
  std::vector<double> y;
  for (int t = 0; t < 40; ++t) y.push_back(100 * std::pow(1.2, t) * (1 + 0.01 * std::sin(t)));
  ASSERT_OK_AND_ASSIGN(auto m, Fit("ets", {{"model", "MMN"}, {"damped", false}, {"nsim", 100}}, y, 1));
  const double levels[] = {80};
  auto r = m->Predict(kMaxHorizon, levels);
  EXPECT_THAT(r, StatusIs(StatusCode::kOutOfRange, "not finite"));
  ASSERT_OK_AND_ASSIGN(Forecast ok, m->Predict(24, levels));
  ExpectFinite(ok);
}

TEST_F(EtsTest, RoundTripsEveryIntervalClass) {
  ASSERT_OK_AND_ASSIGN(auto c1, Fit("ets", {{"model", "AAA"}}, kAirPassengers, 12));
  ExpectRoundTrip(*c1, 24);
  ASSERT_OK_AND_ASSIGN(auto c2, Fit("ets", {{"model", "MAdN"}}, kWWWusage, 1));
  ExpectRoundTrip(*c2, 10);
  ASSERT_OK_AND_ASSIGN(auto c3, Fit("auto_ets", Json::object(), kAirPassengers, 12));
  ExpectRoundTrip(*c3, 24);
  ASSERT_OK_AND_ASSIGN(auto sim, Fit("ets", {{"model", "MMN"}, {"nsim", 300}, {"seed", 7}}, kWWWusage, 1));
  ExpectRoundTrip(*sim, 10);
}

TEST_F(EtsTest, SimulationIsSeeded) {
  ASSERT_OK_AND_ASSIGN(auto a, Fit("ets", {{"model", "MMN"}, {"nsim", 1000}}, kWWWusage, 1));
  ASSERT_OK_AND_ASSIGN(auto b, Fit("ets", {{"model", "MMN"}, {"nsim", 1000}}, kWWWusage, 1));
  ASSERT_OK_AND_ASSIGN(auto c, Fit("ets", {{"model", "MMN"}, {"nsim", 1000}, {"seed", 1}}, kWWWusage, 1));
  const double levels[] = {90};
  ASSERT_OK_AND_ASSIGN(Forecast fa, a->Predict(6, levels));
  ASSERT_OK_AND_ASSIGN(Forecast fb, b->Predict(6, levels));
  ASSERT_OK_AND_ASSIGN(Forecast fc, c->Predict(6, levels));
  EXPECT_EQ(fa.intervals[0].upper, fb.intervals[0].upper);
  EXPECT_NE(fa.intervals[0].upper, fc.intervals[0].upper);
  EXPECT_EQ(fa.mean, fc.mean);
}

TEST_F(EtsTest, DeterministicAcrossThreads) {
  std::vector<std::vector<double>> ys = {kAirPassengers, kWWWusage,
                                         std::vector<double>(kAirPassengers.begin(), kAirPassengers.begin() + 40)};
  std::vector<FitInput> inputs = {{ys[0], 12}, {ys[1], 1}, {ys[2], 12}};
  auto one = FitMany(reg_, {"auto_ets", Json::object()}, inputs, 1);
  auto two = FitMany(reg_, {"auto_ets", Json::object()}, inputs, 2);
  for (size_t i = 0; i < inputs.size(); ++i) {
    ASSERT_OK(one[i]);
    ASSERT_OK(two[i]);
    ASSERT_OK_AND_ASSIGN(std::string a, SerializeModel(**one[i]));
    ASSERT_OK_AND_ASSIGN(std::string b, SerializeModel(**two[i]));
    EXPECT_EQ(a, b);
  }
}

TEST_F(EtsTest, UnfittedModel) {
  ASSERT_OK_AND_ASSIGN(auto m, reg_.Create({"auto_ets", Json::object()}));
  const double levels[] = {80};
  EXPECT_THAT(m->Predict(3, levels), StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_THAT(m->SaveState(), StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_TRUE(m->Fitted().empty());
}

TEST_F(EtsTest, CorruptStateIsDataLoss) {
  ASSERT_OK_AND_ASSIGN(auto m, Fit("ets", {{"model", "ANN"}}, kWWWusage, 1));
  ASSERT_OK_AND_ASSIGN(Json env, ModelEnvelope(*m));
  Json bad = env;
  bad["state"]["last_state"] = Json::array({1.0, 2.0, 3.0});
  EXPECT_THAT(reg_.Load(bad), StatusIs(StatusCode::kDataLoss));
  bad = env;
  bad["state"]["form"] = "QQQ";
  EXPECT_THAT(reg_.Load(bad), StatusIs(StatusCode::kDataLoss));
  bad = env;
  bad["state"].erase("sigma2");
  EXPECT_THAT(reg_.Load(bad), StatusIs(StatusCode::kDataLoss));
}

TEST_F(EtsTest, BoxCoxWrapper) {
  ASSERT_OK_AND_ASSIGN(auto m, Fit("auto_ets", {{"lambda", 0}, {"additive_only", true}}, kAirPassengers, 12));
  EXPECT_THAT(m->Describe().method, HasSubstr("Box-Cox"));
  const double levels[] = {95};
  ASSERT_OK_AND_ASSIGN(Forecast f, m->Predict(12, levels));
  ExpectFinite(f);
  for (int h = 0; h < 12; ++h) EXPECT_GT(f.mean[h], 300);
  ExpectRoundTrip(*m, 12);
}

}  // namespace
}  // namespace almanac::models
