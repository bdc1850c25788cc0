#include "models/theta/theta.h"

#include <cmath>
#include <map>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "almanac/models.h"

#include "core/testing/status_matchers.h"
#include "models/testing/model_testing.h"
#include "models/theta/ses.h"

namespace almanac::models {
namespace {

using testing::kLevels;
using testing::Builtins;
using testing::RelErr;

using ::almanac::testing::IsOk;
using ::almanac::testing::StatusIs;
using testing::CsvRow;
using ::testing::HasSubstr;
using testing::Num;

Result<Forecast> FitPredict(const ForecasterRegistry& reg, const ModelSpec& spec, std::span<const double> y, int period,
                            int h) {
  ALMANAC_ASSIGN_OR_RETURN(auto m, reg.Create(spec));
  ALMANAC_RETURN_IF_ERROR(m->Fit({y, period}));
  return m->Predict(h, kLevels);
}

// Forecasts of one golden file grouped by series.
std::map<std::string, std::vector<CsvRow>> GoldenForecasts(const std::string& file) {
  std::map<std::string, std::vector<CsvRow>> out;
  for (auto& row : testing::ReadGoldenCsv(file)) out[row["series"]].push_back(row);
  return out;
}

// thetaf() minimises the SES criterion with Nelder-Mead; we reach the exact optimum (see ses.h).
// Where R's optimiser converges, alpha agrees to ~1e-4 and forecasts and bounds to < 5e-4
// relative to max(1, |R|).
constexpr double kThetaTolerance = 5e-4;

// Series where R's Nelder-Mead stops short of the optimum, so sigma^2 (and only the interval
// widths) differ. N0933: alpha is at its upper bound 0.9999, where l0 only moves the first
// error; R stops at l0 = 4363.1 although the least-squares l0 is y_1 = 4204.5, leaving an
// extra 25163 in the SSE (205544 vs our 180381): R's sigma^2 is 14% larger. Point forecasts
// still agree to kThetaTolerance.
bool RStopsShort(const std::string& name) { return name == "N0933"; }

TEST(ThetaGoldenTest, MatchesThetafForecastsAndIntervals) {
  const auto series = testing::ReadGoldenSeries("models/theta/series.csv");
  const auto golden = GoldenForecasts("models/theta/thetaf.csv");
  ASSERT_EQ(golden.size(), 9u);
  const ForecasterRegistry reg = Builtins();
  for (const auto& [name, rows] : golden) {
    SCOPED_TRACE(name);
    const auto& s = series.at(name);
    ASSERT_OK_AND_ASSIGN(Forecast f, FitPredict(reg, {"theta", {}}, s.y, s.period, static_cast<int>(rows.size())));
    for (size_t h = 0; h < rows.size(); ++h) {
      EXPECT_LE(RelErr(f.mean[h], Num(rows[h], "mean")), kThetaTolerance) << "h=" << h + 1;
      const double want[] = {Num(rows[h], "lo80"), Num(rows[h], "hi80"), Num(rows[h], "lo95"), Num(rows[h], "hi95")};
      const double got[] = {f.intervals[0].lower[h], f.intervals[0].upper[h], f.intervals[1].lower[h],
                            f.intervals[1].upper[h]};
      for (int k = 0; k < 4; ++k) {
        if (RStopsShort(name)) {
          // Narrower by the ratio of the two sigmas (ours / R's = sqrt(180381 / 205544)).
          const double want_width = want[k] - Num(rows[h], "mean");
          const double got_width = got[k] - f.mean[h];
          EXPECT_NEAR(got_width / want_width, std::sqrt(180381.0 / 205544.0), 2e-3) << "h=" << h + 1;
        } else {
          EXPECT_LE(RelErr(got[k], want[k]), kThetaTolerance)
              << "h=" << h + 1 << " bound " << k << " got " << got[k] << " want " << want[k];
        }
      }
    }
  }
}

TEST(ThetaGoldenTest, MatchesThetafParameters) {
  const auto series = testing::ReadGoldenSeries("models/theta/series.csv");
  const ForecasterRegistry reg = Builtins();
  for (const CsvRow& row : testing::ReadGoldenCsv("models/theta/thetaf_params.csv")) {
    const std::string name = row.at("series");
    SCOPED_TRACE(name);
    const auto& s = series.at(name);
    ASSERT_OK_AND_ASSIGN(auto m, reg.Create({"theta", {}}));
    ASSERT_OK(m->Fit({s.y, s.period}));
    const ModelDescription d = m->Describe();
    EXPECT_EQ(d.params["seasonal"].get<bool>(), row.at("seasonal") == "true");
    // The drift is a least-squares slope: no optimiser involved.
    EXPECT_NEAR(d.params["drift"].get<double>(), Num(row, "drift"), 1e-9 * std::max(1.0, std::fabs(Num(row, "drift"))));
    EXPECT_NEAR(d.params["alpha"].get<double>(), Num(row, "alpha"), 2e-3);
    if (RStopsShort(name)) {
      EXPECT_LT(d.sigma2, Num(row, "sigma2"));
    } else {
      EXPECT_LE(RelErr(d.sigma2, Num(row, "sigma2")), 1e-3);
    }
    EXPECT_EQ(d.nobs, std::stoi(row.at("n")));
  }
}

TEST(SesTest, ReachesAtLeastRsCriterion) {
  // Our SSE must never be worse than the one at R's (alpha, l0).
  const auto series = testing::ReadGoldenSeries("models/theta/series.csv");
  for (const CsvRow& row : testing::ReadGoldenCsv("models/theta/thetaf_params.csv")) {
    if (row.at("seasonal") == "true") continue;  // R's fit is on the adjusted series
    const auto& s = series.at(row.at("series"));
    const SesFit ours = FitSes(s.y);
    const SesFit rs = RunSes(s.y, Num(row, "alpha"), Num(row, "ets_l0"), nullptr);
    EXPECT_LE(ours.sse, rs.sse * (1 + 1e-12)) << row.at("series");
  }
}

TEST(SesTest, RecoversParametersOfAnExactRecursion) {
  // A series that SES with alpha = 0.3 tracks with tiny errors has its optimum near 0.3.
  std::vector<double> y;
  double l = 100;
  unsigned state = 12345;
  for (int t = 0; t < 400; ++t) {
    state = state * 1103515245u + 12345u;
    const double e = (static_cast<double>((state >> 8) % 2001) - 1000.0) / 100.0;
    y.push_back(l + e);
    l += 0.3 * e;
  }
  const SesFit f = FitSes(y);
  EXPECT_NEAR(f.alpha, 0.3, 0.05);
  EXPECT_NEAR(f.l0, 100, 5);
}

TEST(ThetaTest, SerializationRoundTripsToIdenticalBytesAndForecasts) {
  const auto series = testing::ReadGoldenSeries("models/theta/series.csv");
  const ForecasterRegistry reg = Builtins();
  for (const char* type : {"theta", "naive2"}) {
    ASSERT_OK_AND_ASSIGN(auto m, reg.Create({type, {}}));
    const auto& s = series.at("AirPassengers");
    ASSERT_OK(m->Fit({s.y, s.period}));
    ASSERT_OK_AND_ASSIGN(std::string bytes, SerializeModel(*m));
    ASSERT_OK_AND_ASSIGN(auto again, reg.Deserialize(bytes));
    ASSERT_OK_AND_ASSIGN(std::string bytes2, SerializeModel(*again));
    EXPECT_EQ(bytes, bytes2);
    ASSERT_OK_AND_ASSIGN(Forecast f1, m->Predict(30, kLevels));
    ASSERT_OK_AND_ASSIGN(Forecast f2, again->Predict(30, kLevels));
    EXPECT_EQ(f1.mean, f2.mean);
    EXPECT_EQ(f1.intervals[1].upper, f2.intervals[1].upper);
  }
}

TEST(ThetaTest, FitManyIsIndependentOfThreadCount) {
  const auto series = testing::ReadGoldenSeries("models/theta/series.csv");
  std::vector<FitInput> inputs;
  for (const auto& [name, s] : series) inputs.push_back({s.y, s.period});
  const ForecasterRegistry reg = Builtins();
  auto one = FitMany(reg, {"theta", {}}, inputs, 1);
  auto two = FitMany(reg, {"theta", {}}, inputs, 2);
  for (size_t i = 0; i < inputs.size(); ++i) {
    ASSERT_OK(one[i]);
    ASSERT_OK(two[i]);
    EXPECT_EQ(SerializeModel(**one[i]).value(), SerializeModel(**two[i]).value());
  }
}

TEST(ThetaTest, ShortSeriesNeedsFourObservations) {
  const ForecasterRegistry reg = Builtins();
  const std::vector<double> three = {1, 2, 3};
  EXPECT_THAT(FitPredict(reg, {"theta", {}}, three, 1, 3), StatusIs(StatusCode::kInvalidArgument, "at least 4"));
  const std::vector<double> four = {1, 2, 4, 3};
  ASSERT_OK_AND_ASSIGN(Forecast f, FitPredict(reg, {"theta", {}}, four, 12, 3));
  for (double v : f.mean) EXPECT_TRUE(std::isfinite(v));
  // Shorter than 2m + 1: no seasonality test, plain theta.
  ASSERT_OK_AND_ASSIGN(auto m, reg.Create({"theta", {}}));
  ASSERT_OK(m->Fit({four, 12}));
  EXPECT_FALSE(m->Describe().params["seasonal"].get<bool>());
}

TEST(ThetaTest, ConstantSeriesGivesTheConstantWithANote) {
  const ForecasterRegistry reg = Builtins();
  const std::vector<double> y(30, 5.0);
  for (const char* type : {"theta", "naive2"}) {
    ASSERT_OK_AND_ASSIGN(Forecast f, FitPredict(reg, {type, {}}, y, 4, 6));
    for (double v : f.mean) EXPECT_DOUBLE_EQ(v, 5.0);
    for (double v : f.intervals[1].lower) EXPECT_DOUBLE_EQ(v, 5.0);
    if (std::string(type) == "theta") {
      EXPECT_THAT(f.notes, ::testing::Contains(HasSubstr("constant series")));
    }
  }
}

TEST(ThetaTest, InteriorMissingValuesAreInterpolatedWithANote) {
  const auto series = testing::ReadGoldenSeries("models/theta/series.csv");
  std::vector<double> y = series.at("Nile").y;
  std::vector<double> gap = y;
  gap[40] = std::nan("");
  gap[41] = std::nan("");
  const ForecasterRegistry reg = Builtins();
  ASSERT_OK_AND_ASSIGN(Forecast f, FitPredict(reg, {"theta", {}}, gap, 1, 5));
  EXPECT_THAT(f.notes, ::testing::Contains(HasSubstr("2 missing values filled by linear interpolation")));
  for (double v : f.mean) EXPECT_TRUE(std::isfinite(v));
  // Leading missing values are dropped; the fitted values stay aligned with the input.
  std::vector<double> lead = y;
  lead[0] = std::nan("");
  ASSERT_OK_AND_ASSIGN(auto m, reg.Create({"theta", {}}));
  ASSERT_OK(m->Fit({lead, 1}));
  EXPECT_EQ(m->Fitted().size(), lead.size());
  EXPECT_TRUE(std::isnan(m->Fitted()[0]));
  EXPECT_THAT(m->Describe().notes, ::testing::Contains(HasSubstr("1 leading missing value dropped")));
}

TEST(ThetaTest, TrailingMissingValueIsAnError) {
  std::vector<double> y = {1, 2, 3, 4, 5, std::nan("")};
  const ForecasterRegistry reg = Builtins();
  for (const char* type : {"theta", "naive2"})
    EXPECT_THAT(FitPredict(reg, {type, {}}, y, 1, 2), StatusIs(StatusCode::kInvalidArgument, "ends with a missing"));
  std::vector<double> none(5, std::nan(""));
  EXPECT_THAT(FitPredict(reg, {"theta", {}}, none, 1, 2), StatusIs(StatusCode::kInvalidArgument, "no observations"));
}

TEST(ThetaTest, NonPositiveSeasonalSeriesFallsBackToNoDecomposition) {
  const auto series = testing::ReadGoldenSeries("models/theta/series.csv");
  std::vector<double> y = series.at("AirPassengers").y;
  for (double& v : y) v -= 200;  // seasonal, but with negative values
  const ForecasterRegistry reg = Builtins();
  for (const char* type : {"theta", "naive2"}) {
    ASSERT_OK_AND_ASSIGN(Forecast f, FitPredict(reg, {type, {}}, y, 12, 24));
    EXPECT_THAT(f.notes, ::testing::Contains(HasSubstr("non-positive value")));
    for (double v : f.mean) EXPECT_TRUE(std::isfinite(v));
  }
}

TEST(ThetaTest, SeasonalModeParameter) {
  const auto series = testing::ReadGoldenSeries("models/theta/series.csv");
  const auto& s = series.at("AirPassengers");
  const ForecasterRegistry reg = Builtins();
  ASSERT_OK_AND_ASSIGN(auto none, reg.Create({"theta", {{"seasonal", "none"}}}));
  ASSERT_OK(none->Fit({s.y, s.period}));
  EXPECT_FALSE(none->Describe().params["seasonal"].get<bool>());
  // Nile is not seasonal by the test; "multiplicative" forces the decomposition.
  ASSERT_OK_AND_ASSIGN(auto forced, reg.Create({"theta", {{"seasonal", "multiplicative"}}}));
  ASSERT_OK(forced->Fit({series.at("Nile").y, 4}));
  EXPECT_TRUE(forced->Describe().params["seasonal"].get<bool>());
  EXPECT_THAT(reg.Create({"theta", {{"seasonal", "additive"}}}), StatusIs(StatusCode::kInvalidArgument, "seasonal"));
  EXPECT_THAT(reg.Create({"theta", {{"seasonl", "none"}}}), StatusIs(StatusCode::kInvalidArgument, "did you mean"));
}

TEST(ThetaTest, WorksUnderTheRegistrysBoxCoxWrapper) {
  const auto series = testing::ReadGoldenSeries("models/theta/series.csv");
  const auto& s = series.at("AirPassengers");
  const ForecasterRegistry reg = Builtins();
  ASSERT_OK_AND_ASSIGN(Forecast f, FitPredict(reg, {"theta", {{"lambda", 0}}}, s.y, s.period, 24));
  for (size_t h = 0; h < f.mean.size(); ++h) {
    EXPECT_GT(f.mean[h], 0);
    EXPECT_LT(f.intervals[1].lower[h], f.mean[h]);
  }
  // Forcing the decomposition on a series shorter than two periods falls back with a note.
  const std::vector<double> y(s.y.begin(), s.y.begin() + 20);
  ASSERT_OK_AND_ASSIGN(Forecast g, FitPredict(reg, {"theta", {{"seasonal", "multiplicative"}}}, y, 12, 6));
  EXPECT_THAT(g.notes, ::testing::Contains(HasSubstr("two full periods")));
  // A seasonal adjustment asked for on non-seasonal data (period 1) is skipped with a note.
  for (const char* type : {"theta", "naive2"}) {
    ASSERT_OK_AND_ASSIGN(Forecast a, FitPredict(reg, {type, {{"seasonal", "multiplicative"}}}, y, 1, 6));
    EXPECT_THAT(a.notes, ::testing::Contains(HasSubstr("the period is 1"))) << type;
  }
}

TEST(ThetaTest, PredictArgumentChecks) {
  const ForecasterRegistry reg = Builtins();
  const std::vector<double> y = {1, 3, 2, 4, 3, 5, 4, 6};
  for (const char* type : {"theta", "naive2"}) {
    ASSERT_OK_AND_ASSIGN(auto m, reg.Create({type, {}}));
    EXPECT_THAT(m->Predict(3, kLevels), StatusIs(StatusCode::kFailedPrecondition));
    EXPECT_THAT(m->SaveState(), StatusIs(StatusCode::kFailedPrecondition));
    ASSERT_OK(m->Fit({y, 1}));
    EXPECT_THAT(m->Predict(0, kLevels), StatusIs(StatusCode::kInvalidArgument, "horizon"));
    EXPECT_THAT(m->Predict(kMaxHorizon + 1, kLevels), StatusIs(StatusCode::kInvalidArgument, "maximum"));
    const double bad[] = {100};
    EXPECT_THAT(m->Predict(3, bad), StatusIs(StatusCode::kInvalidArgument, "level"));
    ASSERT_OK_AND_ASSIGN(Forecast f, m->Predict(kMaxHorizon, kLevels));
    EXPECT_EQ(f.mean.size(), static_cast<size_t>(kMaxHorizon));
    EXPECT_TRUE(std::isfinite(f.intervals[1].upper.back()));
    EXPECT_THAT(m->Fit({y, 0}), StatusIs(StatusCode::kInvalidArgument, "period"));
  }
}

TEST(ThetaTest, IntervalsWidenWithTheHorizonAndNest) {
  const auto series = testing::ReadGoldenSeries("models/theta/series.csv");
  const ForecasterRegistry reg = Builtins();
  ASSERT_OK_AND_ASSIGN(Forecast f, FitPredict(reg, {"theta", {}}, series.at("Nile").y, 1, 10));
  for (int h = 0; h < 10; ++h) {
    EXPECT_LT(f.intervals[1].lower[h], f.intervals[0].lower[h]);
    EXPECT_LT(f.intervals[0].lower[h], f.mean[h]);
    EXPECT_LT(f.mean[h], f.intervals[0].upper[h]);
    EXPECT_LT(f.intervals[0].upper[h], f.intervals[1].upper[h]);
    if (h > 0) {
      EXPECT_GE(f.intervals[1].upper[h] - f.intervals[1].lower[h],
                f.intervals[1].upper[h - 1] - f.intervals[1].lower[h - 1]);
    }
  }
}

// NAIVE2 as the M4 benchmark code computes it with R's decompose() and naive().
TEST(Naive2GoldenTest, MatchesTheM4BenchmarkFormulation) {
  const auto series = testing::ReadGoldenSeries("models/theta/series.csv");
  const auto golden = GoldenForecasts("models/theta/naive2.csv");
  const ForecasterRegistry reg = Builtins();
  for (const auto& [name, rows] : golden) {
    SCOPED_TRACE(name);
    const auto& s = series.at(name);
    ASSERT_OK_AND_ASSIGN(Forecast f, FitPredict(reg, {"naive2", {}}, s.y, s.period, static_cast<int>(rows.size())));
    for (size_t h = 0; h < rows.size(); ++h) {
      EXPECT_LE(RelErr(f.mean[h], Num(rows[h], "mean")), 1e-12);
      EXPECT_LE(RelErr(f.intervals[0].lower[h], Num(rows[h], "lo80")), 1e-10);
      EXPECT_LE(RelErr(f.intervals[0].upper[h], Num(rows[h], "hi80")), 1e-10);
      EXPECT_LE(RelErr(f.intervals[1].lower[h], Num(rows[h], "lo95")), 1e-10);
      EXPECT_LE(RelErr(f.intervals[1].upper[h], Num(rows[h], "hi95")), 1e-10);
    }
  }
}

// The original M3 NAIVE2 submission on non-seasonal series is the last value (the published
// forecasts are rounded to 2 decimals).
TEST(Naive2GoldenTest, AgreesWithTheOriginalM3SubmissionOnNonSeasonalSeries) {
  const auto series = testing::ReadGoldenSeries("models/theta/series.csv");
  const ForecasterRegistry reg = Builtins();
  std::map<std::string, std::vector<double>> original;
  for (const CsvRow& row : testing::ReadGoldenCsv("models/theta/m3_original_forecasts.csv"))
    if (row.at("method") == "NAIVE2") original[row.at("series_id")].push_back(Num(row, "forecast"));
  for (const char* name : {"N2216", "N0936", "N0249"}) {
    SCOPED_TRACE(name);
    const auto& s = series.at(name);
    const auto& want = original.at(name);
    ASSERT_OK_AND_ASSIGN(Forecast f, FitPredict(reg, {"naive2", {}}, s.y, s.period, static_cast<int>(want.size())));
    for (size_t h = 0; h < want.size(); ++h) EXPECT_NEAR(f.mean[h], want[h], 0.006);
  }
}

}  // namespace
}  // namespace almanac::models
