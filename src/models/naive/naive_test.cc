#include "models/naive/naive.h"

#include <cmath>
#include <map>
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
using testing::RelErr;

using ::almanac::testing::StatusIs;
using testing::CsvRow;
using testing::Num;

// naive(), snaive(), rwf(drift = TRUE) and meanf() are closed-form: agreement to 1e-10
// relative is expected (the t quantile of meanf comes from Boost instead of R's qt).
// One known difference: with missing values R's meanf() takes n = length(x) including the NAs
// for the t degrees of freedom and the sqrt(1 + 1/n) factor, while `mean` counts only the
// observations (97 for NileGaps, not 100), so its intervals are slightly wider than R's there
// (1e-4 relative); the point forecast agrees.
bool MeanfCountsMissing(const std::string& name, const std::string& method) {
  return name == "NileGaps" && method == "mean";
}
TEST(NaiveGoldenTest, MatchesRForecast) {
  const auto series = testing::ReadGoldenSeries("models/naive/series.csv");
  std::map<std::pair<std::string, std::string>, std::vector<CsvRow>> golden;
  for (const CsvRow& row : testing::ReadGoldenCsv("models/naive/naive.csv"))
    golden[{row.at("series"), row.at("method")}].push_back(row);
  ASSERT_EQ(golden.size(), 24u);
  ForecasterRegistry reg;
  RegisterBuiltinModels(reg);
  for (const auto& [key, rows] : golden) {
    const auto& [name, method] = key;
    SCOPED_TRACE(name + " " + method);
    const auto& s = series.at(name);
    ASSERT_OK_AND_ASSIGN(auto m, reg.Create({method, {}}));
    ASSERT_OK(m->Fit({s.y, s.period}));
    ASSERT_OK_AND_ASSIGN(Forecast f, m->Predict(static_cast<int>(rows.size()), kLevels));
    for (size_t h = 0; h < rows.size(); ++h) {
      EXPECT_LE(RelErr(f.mean[h], Num(rows[h], "mean")), 1e-10) << "h=" << h + 1;
      if (MeanfCountsMissing(name, method)) {
        EXPECT_GT(Num(rows[h], "lo95"), f.intervals[1].lower[h]);
        EXPECT_LE(RelErr(f.intervals[1].lower[h], Num(rows[h], "lo95")), 1e-3);
        continue;
      }
      EXPECT_LE(RelErr(f.intervals[0].lower[h], Num(rows[h], "lo80")), 1e-10) << "h=" << h + 1;
      EXPECT_LE(RelErr(f.intervals[0].upper[h], Num(rows[h], "hi80")), 1e-10) << "h=" << h + 1;
      EXPECT_LE(RelErr(f.intervals[1].lower[h], Num(rows[h], "lo95")), 1e-10) << "h=" << h + 1;
      EXPECT_LE(RelErr(f.intervals[1].upper[h], Num(rows[h], "hi95")), 1e-10) << "h=" << h + 1;
    }
  }
}

TEST(NaiveTest, ErrorsNameTheProblem) {
  ForecasterRegistry reg;
  RegisterBuiltinModels(reg);
  const std::vector<double> empty(3, std::nan(""));
  ASSERT_OK_AND_ASSIGN(auto naive, reg.Create({"naive", {}}));
  EXPECT_THAT(naive->Fit({empty, 1}), StatusIs(StatusCode::kInvalidArgument, "no observations"));
  ASSERT_OK_AND_ASSIGN(auto snaive, reg.Create({"snaive", {}}));
  const std::vector<double> y = {1, 2, 3, 4};
  EXPECT_THAT(snaive->Fit({y, 4}), StatusIs(StatusCode::kInvalidArgument, "more than one seasonal period"));
  ASSERT_OK_AND_ASSIGN(auto drift, reg.Create({"drift", {}}));
  const std::vector<double> one = {5};
  EXPECT_THAT(drift->Fit({one, 1}), StatusIs(StatusCode::kInvalidArgument, "at least two"));
  EXPECT_THAT(drift->Predict(3, kLevels), StatusIs(StatusCode::kFailedPrecondition));
}

}  // namespace
}  // namespace almanac::models
