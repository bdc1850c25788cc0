// Joint path simulation (issue 24): the counter-based generator against Random123's
// known answers, reproducibility (seeds, thread counts, path counts), Monte Carlo convergence
// of the moments to the VAR's point forecast and MSE(h), Student-t covariance, bootstrapped
// residual vectors, conditional paths, BVAR posterior draws, and bad input.
#include "models/var/paths.h"

#include <cmath>
#include <set>

#include <Eigen/Dense>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "almanac/models.h"

#include "core/testing/status_matchers.h"
#include "models/var/var_core.h"

namespace almanac::models {
namespace {

using ::almanac::testing::IsOk;
using ::almanac::testing::StatusIs;
using ::testing::HasSubstr;
using var::MatrixXd;

// A stationary 3-variable VAR(2)-like process driven by a small LCG (no library RNG), 240
// quarters from 1960Q1.
MultiInput PathData() {
  const int k = 3, n = 240;
  MultiInput d;
  d.names = {"gdp", "infl", "rate"};
  d.values.assign(k, std::vector<double>(n));
  std::uint64_t s = 2024;
  auto uni = [&] {
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<double>(s >> 11) * 0x1.0p-53 - 0.5;
  };
  double y1[3] = {0, 0, 0}, y2[3] = {0, 0, 0};
  for (int t = 0; t < n; ++t) {
    const double e0 = uni(), e1 = uni() + 0.3 * e0, e2 = uni() + 0.2 * e1;
    const double y[3] = {1.0 + 0.5 * y1[0] - 0.2 * y2[0] + 0.1 * y1[2] + e0,
                         0.5 + 0.3 * y1[0] + 0.4 * y1[1] + 0.1 * y2[1] + e1,
                         0.2 + 0.2 * y1[1] + 0.6 * y1[2] + 0.1 * y2[0] + e2};
    for (int i = 0; i < k; ++i) {
      d.values[i][t] = y[i];
      y2[i] = y1[i];
      y1[i] = y[i];
    }
  }
  d.start = Period::Parse("1960Q1").value();
  return d;
}

std::unique_ptr<MultivariateForecaster> Fitted(const char* type = "var") {
  auto m = CreateMultivariate({type, Json{{"lags", 2}}});
  EXPECT_THAT(m, IsOk());
  EXPECT_THAT((*m)->Fit(PathData()), IsOk());
  return std::move(*m);
}

MatrixXd Nested(const std::vector<std::vector<double>>& v) {
  MatrixXd m(static_cast<int>(v.size()), static_cast<int>(v[0].size()));
  for (int r = 0; r < m.rows(); ++r)
    for (int c = 0; c < m.cols(); ++c) m(r, c) = v[r][c];
  return m;
}

// MSE(h) = sum_{i<h} Phi_i Sigma Phi_i' of the fitted model, h = 1..horizon.
std::vector<MatrixXd> Mse(const MultivariateForecaster& model, int horizon) {
  const MultiDescription d = model.Describe().value();
  const MatrixXd b = Nested(d.coefficients);
  const auto phi = var::MaRep(b, 3, d.lags, 1, horizon);
  return var::ForecastMse(phi, Nested(d.sigma_u), horizon);
}

PathSimulationRequest Request(int n, int horizon, std::uint64_t seed = 1) {
  PathSimulationRequest r;
  r.num_paths = n;
  r.horizon = horizon;
  r.seed = seed;
  r.threads = 2;
  return r;
}

TEST(PathsPhiloxTest, MatchesRandom123KnownAnswers) {
  // Random123 (Salmon et al. 2011) tests/kat_vectors, philox4x32 with 10 rounds.
  using A4 = std::array<std::uint32_t, 4>;
  EXPECT_EQ(var::Philox4x32({0, 0, 0, 0}, {0, 0}), (A4{0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}));
  EXPECT_EQ(var::Philox4x32({0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}, {0xffffffff, 0xffffffff}),
            (A4{0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}));
  EXPECT_EQ(var::Philox4x32({0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}, {0xa4093822, 0x299f31d0}),
            (A4{0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}));
}

TEST(PathsPhiloxTest, NormalsAndChiSquareHaveTheirMoments) {
  double s = 0, s2 = 0, c = 0;
  const int n = 20000;
  for (int i = 0; i < n; ++i) {
    const var::PathRandom rng(5, static_cast<std::uint64_t>(i));
    double z[3];
    rng.Normals(var::PathStream::kShock, 0, 3, z);
    for (double v : z) {
      s += v;
      s2 += v * v;
    }
    c += rng.ChiSquare(7, 0);
  }
  EXPECT_NEAR(s / (3 * n), 0, 4 / std::sqrt(3.0 * n));
  EXPECT_NEAR(s2 / (3 * n), 1, 4 * std::sqrt(2 / (3.0 * n)));
  EXPECT_NEAR(c / n, 7, 4 * std::sqrt(14.0 / n));  // chi2(7): mean 7, variance 14
}

TEST(PathsTest, ReproducibleForAnySeedThreadCountAndPathCount) {
  auto var_model = Fitted("var");
  auto bvar_model = Fitted("bvar");
  std::vector<PathSimulationRequest> cases;
  for (ShockDistribution shocks :
       {ShockDistribution::kGaussian, ShockDistribution::kStudentT, ShockDistribution::kBootstrap}) {
    PathSimulationRequest r = Request(700, 5, 99);
    r.shocks = shocks;
    cases.push_back(r);
  }
  PathSimulationRequest cond = Request(700, 5, 99);
  cond.conditions = {{"rate", {3, 3, kNaN, 3.5, kNaN}}};
  cases.push_back(cond);
  for (const PathSimulationRequest& base : cases) {
    SCOPED_TRACE(std::string(ShockDistributionName(base.shocks)) + (base.conditions.empty() ? "" : " conditional"));
    PathSimulationRequest r1 = base, r2 = base;
    r1.threads = 1;
    r2.threads = 2;
    auto a = var_model->SimulatePaths(r1);
    auto b = var_model->SimulatePaths(r2);
    ASSERT_THAT(a, IsOk());
    ASSERT_THAT(b, IsOk());
    EXPECT_EQ(a->values, b->values);  // bit-identical
    auto again = var_model->SimulatePaths(r1);
    EXPECT_EQ(a->values, again->values);
    // The draws of path i depend only on (seed, i): 300 paths are the first 300 of 700
    // (across a 256-path chunk boundary).
    PathSimulationRequest fewer = r2;
    fewer.num_paths = 300;
    auto c = var_model->SimulatePaths(fewer);
    ASSERT_THAT(c, IsOk());
    EXPECT_TRUE(std::equal(c->values.begin(), c->values.end(), a->values.begin()));
    PathSimulationRequest other = r2;
    other.seed = 100;
    EXPECT_NE(var_model->SimulatePaths(other)->values, a->values);
  }
  PathSimulationRequest pu = Request(600, 4, 3);
  pu.parameter_uncertainty = true;
  PathSimulationRequest pu1 = pu;
  pu1.threads = 1;
  auto x = bvar_model->SimulatePaths(pu);
  ASSERT_THAT(x, IsOk());
  EXPECT_EQ(x->values, bvar_model->SimulatePaths(pu1)->values);
  // The same through a serialized round trip of the model.
  auto reloaded = DeserializeMultivariate(SerializeMultivariate(*var_model).value());
  ASSERT_THAT(reloaded, IsOk());
  EXPECT_EQ((*reloaded)->SimulatePaths(cases[0])->values, var_model->SimulatePaths(cases[0])->values);
}

TEST(PathsTest, LayoutAndLabels) {
  auto model = Fitted();
  auto p = model->SimulatePaths(Request(4, 3));
  ASSERT_THAT(p, IsOk());
  EXPECT_EQ(p->num_paths, 4);
  EXPECT_EQ(p->horizon, 3);
  EXPECT_EQ(p->num_vars, 3);
  EXPECT_EQ(p->values.size(), 36u);
  EXPECT_EQ(p->at(2, 1, 2), p->values[(2 * 3 + 1) * 3 + 2]);
  EXPECT_EQ(p->first_period->ToString(), "2020Q1");
  EXPECT_THAT(p->method, HasSubstr("Philox4x32-10"));
  EXPECT_THAT(p->method, HasSubstr("VAR(2)"));
}

// Sample means and covariances of the simulated h-step values against the point forecast and
// MSE(h); the error of the mean shrinks like 1/sqrt(N).
TEST(PathsTest, GaussianMomentsConvergeAtRootN) {
  auto model = Fitted();
  const int horizon = 4;
  MultiPredictRequest pr;
  pr.horizon = horizon;
  const MultiForecast fc = model->Predict(pr).value();
  const auto mse = Mse(*model, horizon);
  // RMS over (seed, step, variable) of the error of the sample mean, raw and in units of
  // sqrt(MSE / N), for N and 16 N.
  auto rms_error = [&](int n, double* standardized) {
    double raw = 0, std2 = 0;
    int cells = 0;
    for (std::uint64_t seed = 1; seed <= 4; ++seed) {
      const SimulatedPaths p = model->SimulatePaths(Request(n, horizon, seed)).value();
      for (int h = 0; h < horizon; ++h)
        for (int i = 0; i < 3; ++i) {
          double s = 0;
          for (int path = 0; path < n; ++path) s += p.at(path, h, i);
          const double err = s / n - fc.mean[i][h];
          raw += err * err;
          std2 += err * err / (mse[h](i, i) / n);
          ++cells;
        }
    }
    *standardized = std::sqrt(std2 / cells);
    return std::sqrt(raw / cells);
  };
  double z_small = 0, z_large = 0;
  const double small = rms_error(2000, &z_small);
  const double large = rms_error(32000, &z_large);
  RecordProperty("rms_error_n2000", std::to_string(small));
  RecordProperty("rms_error_n32000", std::to_string(large));
  RecordProperty("standardized_rms", std::to_string(z_small) + " " + std::to_string(z_large));
  // Standardized errors are N(0, 1): RMS near 1 at both sizes; the raw error drops by ~4.
  EXPECT_GT(z_small, 0.5);
  EXPECT_LT(z_small, 1.6);
  EXPECT_GT(z_large, 0.5);
  EXPECT_LT(z_large, 1.6);
  EXPECT_GT(small / large, 2.5) << small << " " << large;
  EXPECT_LT(small / large, 6.4) << small << " " << large;

  // Covariance at every step against MSE(h) (relative sampling error ~ sqrt(2 / N) = 0.6%).
  const int n = 50000;
  const SimulatedPaths p = model->SimulatePaths(Request(n, horizon, 11)).value();
  for (int h = 0; h < horizon; ++h) {
    Eigen::MatrixXd x(n, 3);
    for (int path = 0; path < n; ++path)
      for (int i = 0; i < 3; ++i) x(path, i) = p.at(path, h, i);
    x.rowwise() -= x.colwise().mean();
    const Eigen::MatrixXd cov = x.transpose() * x / (n - 1);
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 3; ++j)
        EXPECT_NEAR(cov(i, j), mse[h](i, j), 0.04 * std::sqrt(mse[h](i, i) * mse[h](j, j)))
            << "h=" << h + 1 << " (" << i << "," << j << ")";
  }
}

TEST(PathsTest, StudentTShocksHaveCovarianceSigmaAndFatTails) {
  auto model = Fitted();
  const MatrixXd sigma = Nested(model->Describe()->sigma_u);
  MultiPredictRequest pr;
  pr.horizon = 1;
  const MultiForecast fc = model->Predict(pr).value();
  PathSimulationRequest r = Request(200000, 1, 8);
  r.shocks = ShockDistribution::kStudentT;
  r.t_dof = 6;
  const SimulatedPaths p = model->SimulatePaths(r).value();
  Eigen::MatrixXd u(r.num_paths, 3);
  for (int path = 0; path < r.num_paths; ++path)
    for (int i = 0; i < 3; ++i) u(path, i) = p.at(path, 0, i) - fc.mean[i][0];
  const Eigen::MatrixXd cov = u.transpose() * u / r.num_paths;
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j)
      EXPECT_NEAR(cov(i, j), sigma(i, j), 0.03 * std::sqrt(sigma(i, i) * sigma(j, j))) << i << "," << j;
  // Marginal kurtosis of t(6) is 6 (Gaussian: 3).
  const double m2 = u.col(0).array().square().mean();
  const double kurt = u.col(0).array().pow(4).mean() / (m2 * m2);
  RecordProperty("t6_kurtosis", std::to_string(kurt));
  EXPECT_GT(kurt, 4.5);
  EXPECT_LT(kurt, 8.0);
}

TEST(PathsTest, BootstrapDrawsWholeResidualVectors) {
  auto model = Fitted();
  const MultiDescription d = model->Describe().value();
  const MatrixXd b = Nested(d.coefficients);
  const MultiInput data = PathData();
  // Residuals of the fitted VAR(2), computed here from the description, then centred.
  const int t_len = static_cast<int>(data.size());
  Eigen::MatrixXd resid(t_len - 2, 3);
  for (int t = 2; t < t_len; ++t)
    for (int e = 0; e < 3; ++e) {
      double f = b(0, e);
      for (int lag = 1; lag <= 2; ++lag)
        for (int v = 0; v < 3; ++v) f += b(1 + 3 * (lag - 1) + v, e) * data.values[v][t - lag];
      resid(t - 2, e) = data.values[e][t] - f;
    }
  resid.rowwise() -= resid.colwise().mean();
  MultiPredictRequest pr;
  pr.horizon = 1;
  const MultiForecast fc = model->Predict(pr).value();
  PathSimulationRequest r = Request(2000, 1, 4);
  r.shocks = ShockDistribution::kBootstrap;
  const SimulatedPaths p = model->SimulatePaths(r).value();
  std::set<int> used;
  for (int path = 0; path < r.num_paths; ++path) {
    int match = -1;
    for (int t = 0; t < resid.rows() && match < 0; ++t) {
      bool all = true;
      for (int i = 0; i < 3; ++i) all = all && std::fabs(p.at(path, 0, i) - fc.mean[i][0] - resid(t, i)) < 1e-9;
      if (all) match = t;
    }
    ASSERT_GE(match, 0) << "path " << path << " is not the forecast plus one residual vector";
    used.insert(match);
  }
  // 2000 draws from 238 vectors leave almost none unused.
  EXPECT_GT(used.size(), 220u);
}

TEST(PathsTest, ConditionalPathsHitTheScenarioExactly) {
  auto model = Fitted();
  const int horizon = 4;
  MultiPredictRequest pr;
  pr.horizon = horizon;
  pr.levels = {95};
  pr.conditions = {{"rate", {2.0, 2.5, 3.0, 3.0}}, {"infl", {kNaN, 1.0, kNaN, kNaN}}};
  const MultiForecast fc = model->Predict(pr).value();
  PathSimulationRequest r = Request(20000, horizon, 21);
  r.conditions = pr.conditions;
  const SimulatedPaths p = model->SimulatePaths(r).value();
  EXPECT_THAT(p.method, HasSubstr("Waggoner-Zha"));
  for (int path = 0; path < r.num_paths; ++path) {
    for (int h = 0; h < horizon; ++h) ASSERT_EQ(p.at(path, h, 2), pr.conditions[0].values[h]);
    ASSERT_EQ(p.at(path, 1, 1), 1.0);
  }
  // The free values follow the conditional distribution: mean and sd as Predict's.
  for (int h = 0; h < horizon; ++h)
    for (int i = 0; i < 2; ++i) {
      if (i == 1 && h == 1) continue;
      double s = 0, s2 = 0;
      for (int path = 0; path < r.num_paths; ++path) {
        s += p.at(path, h, i);
        s2 += p.at(path, h, i) * p.at(path, h, i);
      }
      const double mean = s / r.num_paths;
      const double sd = std::sqrt(s2 / r.num_paths - mean * mean);
      const double want_sd = (fc.intervals[0].upper[i][h] - fc.mean[i][h]) / 1.959963984540054;
      EXPECT_NEAR(mean, fc.mean[i][h], 4 * want_sd / std::sqrt(r.num_paths)) << "h=" << h + 1 << " var " << i;
      EXPECT_NEAR(sd, want_sd, 0.03 * want_sd) << "h=" << h + 1 << " var " << i;
    }
  r.shocks = ShockDistribution::kStudentT;
  EXPECT_THAT(model->SimulatePaths(r), StatusIs(StatusCode::kInvalidArgument));
  r.shocks = ShockDistribution::kGaussian;
  r.conditions = {{"unemp", {1, 1, 1, 1}}};
  EXPECT_THAT(model->SimulatePaths(r), StatusIs(StatusCode::kInvalidArgument));
  r.conditions = {{"rate", {1, 1}}};
  EXPECT_THAT(model->SimulatePaths(r), StatusIs(StatusCode::kInvalidArgument));
}

TEST(PathsTest, BvarPosteriorDrawsWidenThePaths) {
  auto model = Fitted("bvar");
  const int horizon = 4, n = 20000;
  PathSimulationRequest fixed = Request(n, horizon, 5);
  PathSimulationRequest drawn = fixed;
  drawn.parameter_uncertainty = true;
  const SimulatedPaths a = model->SimulatePaths(fixed).value();
  const SimulatedPaths b = model->SimulatePaths(drawn).value();
  EXPECT_THAT(b.method, HasSubstr("posterior"));
  MultiPredictRequest pr;
  pr.horizon = horizon;
  const MultiForecast fc = model->Predict(pr).value();  // posterior predictive, 2000 draws
  double var_fixed = 0, var_drawn = 0;
  for (int i = 0; i < 3; ++i) {
    double s = 0, s2 = 0, sa = 0, sa2 = 0;
    for (int path = 0; path < n; ++path) {
      const double v = b.at(path, horizon - 1, i), w = a.at(path, horizon - 1, i);
      s += v;
      s2 += v * v;
      sa += w;
      sa2 += w * w;
    }
    const double mean = s / n, var = s2 / n - mean * mean;
    var_drawn += var;
    var_fixed += sa2 / n - (sa / n) * (sa / n);
    // Both are posterior predictive means: Monte Carlo error of 20000 and 2000 draws.
    EXPECT_NEAR(mean, fc.mean[i][horizon - 1], 5 * std::sqrt(var * (1.0 / n + 1.0 / 2000))) << "var " << i;
  }
  RecordProperty("variance_fixed_drawn", std::to_string(var_fixed) + " " + std::to_string(var_drawn));
  EXPECT_GT(var_drawn, var_fixed);
  // With conditions as well: every path still meets them.
  drawn.num_paths = 200;
  drawn.conditions = {{"gdp", {1.0, kNaN, kNaN, 2.0}}};
  const SimulatedPaths c = model->SimulatePaths(drawn).value();
  for (int path = 0; path < drawn.num_paths; ++path) {
    ASSERT_EQ(c.at(path, 0, 0), 1.0);
    ASSERT_EQ(c.at(path, 3, 0), 2.0);
  }
}

TEST(PathsTest, BadInputIsAClearError) {
  auto model = Fitted();
  auto bad = [&](auto edit) {
    PathSimulationRequest r = Request(10, 4);
    edit(r);
    return model->SimulatePaths(r);
  };
  EXPECT_THAT(bad([](auto& r) { r.num_paths = 0; }), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(bad([](auto& r) { r.num_paths = 0; }).status().message(), HasSubstr("num_paths"));
  EXPECT_THAT(bad([](auto& r) { r.horizon = 0; }), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(bad([](auto& r) { r.horizon = kMaxHorizon + 1; }), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(bad([](auto& r) {
                r.num_paths = 50000000;
                r.horizon = 8;
              })
                  .status()
                  .message(),
              HasSubstr("too many path values"));
  for (double nu : {2.0, 1.5, -3.0, kNaN, std::numeric_limits<double>::infinity()}) {
    auto s = bad([&](auto& r) {
      r.shocks = ShockDistribution::kStudentT;
      r.t_dof = nu;
    });
    EXPECT_THAT(s, StatusIs(StatusCode::kInvalidArgument)) << nu;
    EXPECT_THAT(s.status().message(), HasSubstr("t_dof > 2"));
  }
  EXPECT_THAT(bad([](auto& r) { r.parameter_uncertainty = true; }).status().message(),
              HasSubstr("parameter uncertainty needs model type 'bvar'"));
  EXPECT_THAT(ParseShockDistribution("cauchy"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_EQ(ParseShockDistribution("t").value(), ShockDistribution::kStudentT);
  EXPECT_EQ(ParseShockDistribution("bootstrap").value(), ShockDistribution::kBootstrap);

  // Before Fit; a model type that does not simulate.
  auto unfitted = CreateMultivariate({"var", Json::object()});
  EXPECT_THAT((*unfitted)->SimulatePaths(Request(10, 4)), StatusIs(StatusCode::kFailedPrecondition));
  auto arimax = CreateMultivariate({"arimax", Json::object()});
  ASSERT_THAT(arimax, IsOk());
  EXPECT_THAT((*arimax)->SimulatePaths(Request(10, 4)), StatusIs(StatusCode::kUnimplemented));

  // A stored model whose residual covariance is not positive definite.
  Json env = MultivariateEnvelope(*model).value();
  env["state"]["sigma_u"] =
      Json::array({Json::array({1.0, 2.0, 0.0}), Json::array({2.0, 1.0, 0.0}), Json::array({0.0, 0.0, 1.0})});
  auto broken = LoadMultivariate(env);
  ASSERT_THAT(broken, IsOk());
  auto s = (*broken)->SimulatePaths(Request(10, 4));
  EXPECT_THAT(s, StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(s.status().message(), HasSubstr("not positive definite"));
}

}  // namespace
}  // namespace almanac::models
