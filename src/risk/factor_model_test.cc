// The factor model's OLS with Newey-West standard errors against statsmodels
// (testdata/risk/factor_reference.json, written by testdata/risk/make_factor_reference.py), to
// 1e-8, and its errors.
#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "almanac/core.h"
#include "almanac/core/json.h"
#include "almanac/risk.h"

#include "core/testing/status_matchers.h"

namespace almanac::risk {
namespace {

using ::almanac::testing::StatusIs;

double FactorTol(double want) { return 1e-8 * std::max(1.0, std::fabs(want)); }

TEST(FactorModelTest, MatchesStatsmodelsHac) {
  std::ifstream in(std::string(ALMANAC_SOURCE_DIR) + "/testdata/risk/factor_reference.json");
  std::stringstream ss;
  ss << in.rdbuf();
  auto ref = ParseJson(ss.str());
  ASSERT_TRUE(ref.ok());
  ASSERT_FALSE((*ref)["cases"].empty());
  for (const auto& c : (*ref)["cases"]) {
    const auto y = c["returns"].get<std::vector<double>>();
    const auto f = c["factors"].get<std::vector<std::vector<double>>>();
    const FactorModelOptions o{.intercept = c["intercept"].get<bool>(), .lags = c["lags"].get<int64_t>(),
                               .small_sample_correction = c["small_sample_correction"].get<bool>()};
    auto fit = FitFactorModel(y, f, o);
    ASSERT_TRUE(fit.ok()) << fit.status().ToString();
    EXPECT_EQ(fit->lags, c["expected_lags"].get<int64_t>());
    EXPECT_EQ(fit->observations, static_cast<int64_t>(y.size()));
    const auto params = c["params"].get<std::vector<double>>();
    const auto bse = c["bse"].get<std::vector<double>>();
    const auto tv = c["tvalues"].get<std::vector<double>>();
    const auto cov = c["cov"].get<std::vector<std::vector<double>>>();
    ASSERT_EQ(fit->coefficients.size(), params.size());
    for (size_t i = 0; i < params.size(); ++i) {
      EXPECT_NEAR(fit->coefficients[i], params[i], FactorTol(params[i])) << i;
      EXPECT_NEAR(fit->std_errors[i], bse[i], FactorTol(bse[i])) << i;
      EXPECT_NEAR(fit->t_stats[i], tv[i], FactorTol(tv[i])) << i;
      for (size_t j = 0; j < params.size(); ++j)
        EXPECT_NEAR(fit->covariance[i * params.size() + j], cov[i][j], 1e-12) << i << "," << j;
    }
    EXPECT_NEAR(fit->r_squared, c["rsquared"].get<double>(), 1e-8);
    EXPECT_NEAR(fit->residual_sd, c["resid_sd"].get<double>(), 1e-10);
  }
}

TEST(FactorModelTest, BadInputNamesThePlace) {
  const std::vector<double> y = {1, 2, 3, 4};
  EXPECT_THAT(FitFactorModel(y, {{1, 2, 3}}, {}), StatusIs(StatusCode::kInvalidArgument, "factor 0 has 3 observations"));
  EXPECT_THAT(FitFactorModel(y, {{1, 2, 3, std::numeric_limits<double>::quiet_NaN()}}, {}),
              StatusIs(StatusCode::kInvalidArgument, "factor 0[3]"));
  const std::vector<double> bad_y = {1, std::numeric_limits<double>::infinity(), 3, 4};
  EXPECT_THAT(FitFactorModel(bad_y, {{1, 2, 3, 5}}, {}), StatusIs(StatusCode::kInvalidArgument, "returns[1]"));
  EXPECT_THAT(FitFactorModel(y, {{1, 2, 3, 5}, {0, 1, 0, 2}, {3, 1, 2, 2}}, {}),
              StatusIs(StatusCode::kInvalidArgument, "too few observations: 4 for 4"));
  EXPECT_THAT(FitFactorModel(y, {{1, 2, 3, 5}, {2, 4, 6, 10}}, {}),
              StatusIs(StatusCode::kInvalidArgument, "collinear"));
  EXPECT_THAT(FitFactorModel(y, {{1, 2, 3, 5}}, {.lags = 4}), StatusIs(StatusCode::kInvalidArgument, "lags"));
  EXPECT_THAT(FitFactorModel(y, {}, {.intercept = false}), StatusIs(StatusCode::kInvalidArgument, "nothing to estimate"));
}

}  // namespace
}  // namespace almanac::risk
