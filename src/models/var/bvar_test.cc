// BVAR: the Minnesota prior, marginal likelihood and posterior checked against dense
// textbook formulas computed here independently; limits (flat prior -> OLS, tight prior ->
// prior mean); hyperparameter search; simulation determinism and conditional paths.
#include <cmath>

#include <Eigen/Dense>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "almanac/models.h"

#include "core/testing/status_matchers.h"

namespace almanac::models {
namespace {

using ::almanac::testing::IsOk;
using ::almanac::testing::StatusIs;
using ::testing::HasSubstr;

MultiInput Simulated(int k, int n, uint64_t seed = 11) {
  MultiInput d;
  for (int i = 0; i < k; ++i) d.names.push_back("x" + std::to_string(i));
  d.values.assign(static_cast<size_t>(k), std::vector<double>(static_cast<size_t>(n)));
  uint64_t s = seed;
  auto uni = [&] {
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<double>(s >> 11) * 0x1.0p-53 - 0.5;
  };
  std::vector<double> prev(static_cast<size_t>(k), 0.0);
  for (int t = 0; t < n; ++t) {
    std::vector<double> cur(static_cast<size_t>(k));
    for (int i = 0; i < k; ++i) cur[i] = 1.0 + 0.5 * prev[i] + 0.2 * prev[(i + 1) % k] + (1 + i) * uni();
    for (int i = 0; i < k; ++i) d.values[i][t] = prev[i] = cur[i];
  }
  d.start = Period::Parse("1980Q1").value();
  return d;
}

std::unique_ptr<MultivariateForecaster> FitBvar(const Json& params, const MultiInput& d, const char* type = "bvar") {
  auto m = CreateMultivariate({type, params});
  EXPECT_THAT(m, IsOk());
  EXPECT_THAT((*m)->Fit(d), IsOk());
  return std::move(*m);
}

// Dense log N(y; X b0, s2 I + X V X') and posterior mean, straight from the definitions.
struct Dense {
  double log_ml = 0;
  Eigen::VectorXd post_mean;
};
Dense DenseEquation(const Eigen::MatrixXd& x, const Eigen::VectorXd& y, const Eigen::VectorXd& b0,
                    const Eigen::VectorXd& v, double s2) {
  const int n = static_cast<int>(x.rows());
  const Eigen::MatrixXd c = s2 * Eigen::MatrixXd::Identity(n, n) + x * v.asDiagonal() * x.transpose();
  const Eigen::VectorXd r = y - x * b0;
  Eigen::LLT<Eigen::MatrixXd> llt(c);
  double logdet = 0;
  for (int i = 0; i < n; ++i) logdet += 2 * std::log(llt.matrixL()(i, i));
  Dense d;
  d.log_ml = -0.5 * n * std::log(2 * M_PI) - 0.5 * logdet - 0.5 * r.dot(llt.solve(r));
  // Posterior mean b0 + V X' C^{-1} r (the same Gaussian identity, written the other way).
  d.post_mean = b0 + v.asDiagonal() * x.transpose() * llt.solve(r);
  return d;
}

TEST(BvarTest, MarginalLikelihoodAndPosteriorMatchDenseFormulas) {
  const int k = 2, p = 2, d = 1, T = 40;
  MultiInput data = Simulated(k, T);
  const double delta = 0.3;
  auto m = FitBvar(
      {{"lags", p}, {"lambda_grid", {0.05, 0.4}}, {"theta_grid", {0.3, 1.0}}, {"decay", 1.5}, {"delta", delta}}, data);
  auto desc = m->Describe();
  ASSERT_THAT(desc, IsOk());
  const int n = T - p, mm = d + k * p;
  Eigen::MatrixXd x(n, mm), y(n, k);
  for (int r = 0; r < n; ++r) {
    x(r, 0) = 1;
    for (int j = 1; j <= p; ++j)
      for (int v = 0; v < k; ++v) x(r, d + k * (j - 1) + v) = data.values[v][p + r - j];
    for (int v = 0; v < k; ++v) y(r, v) = data.values[v][p + r];
  }
  // Litterman scales: univariate AR(p) with a constant.
  std::vector<double> sig(k);
  for (int i = 0; i < k; ++i) {
    Eigen::MatrixXd xi(n, 1 + p);
    xi.col(0) = x.col(0);
    for (int j = 1; j <= p; ++j) xi.col(j) = x.col(d + k * (j - 1) + i);
    const Eigen::VectorXd b = xi.colPivHouseholderQr().solve(y.col(i));
    sig[i] = std::sqrt((y.col(i) - xi * b).squaredNorm() / (n - 1 - p));
    EXPECT_NEAR(desc->params["ar_sigma"][i].get<double>(), sig[i], 1e-12 * sig[i]);
  }
  auto prior_var = [&](double lambda, double theta, double decay, int i) {
    Eigen::VectorXd v(mm);
    v(0) = std::pow(100 * sig[i], 2);
    for (int l = 1; l <= p; ++l)
      for (int j = 0; j < k; ++j) {
        const double sd = lambda / std::pow(l, decay) * (i == j ? 1.0 : theta * sig[i] / sig[j]);
        v(d + k * (l - 1) + j) = sd * sd;
      }
    return v;
  };
  const Json& grid = desc->params["grid"];
  ASSERT_EQ(grid.size(), 4u);
  double best = -1e300;
  std::vector<double> best_h;
  for (const auto& g : grid) {
    double total = 0;
    for (int i = 0; i < k; ++i) {
      Eigen::VectorXd b0 = Eigen::VectorXd::Zero(mm);
      b0(d + i) = delta;
      total += DenseEquation(x, y.col(i), b0, prior_var(g[0], g[1], g[2], i), sig[i] * sig[i]).log_ml;
    }
    EXPECT_NEAR(g[3].get<double>(), total, 1e-8 * std::fabs(total)) << g.dump();
    if (total > best) {
      best = total;
      best_h = {g[0], g[1], g[2]};
    }
  }
  EXPECT_EQ(desc->params["lambda"].get<double>(), best_h[0]);
  EXPECT_EQ(desc->params["theta"].get<double>(), best_h[1]);
  EXPECT_NEAR(desc->params["log_marginal_likelihood"].get<double>(), best, 1e-8 * std::fabs(best));
  for (int i = 0; i < k; ++i) {
    Eigen::VectorXd b0 = Eigen::VectorXd::Zero(mm);
    b0(d + i) = delta;
    const Dense de = DenseEquation(x, y.col(i), b0, prior_var(best_h[0], best_h[1], best_h[2], i), sig[i] * sig[i]);
    for (int r = 0; r < mm; ++r)
      EXPECT_NEAR(desc->coefficients[r][i], de.post_mean(r), 1e-9) << "coef " << r << "," << i;
  }
}

TEST(BvarTest, FlatPriorGivesOlsAndTightPriorGivesThePriorMean) {
  MultiInput data = Simulated(3, 120);
  auto ols = FitBvar({{"lags", 2}}, data, "var")->Describe().value();
  auto flat = FitBvar({{"lags", 2}, {"lambda", 1e4}, {"theta", 1.0}, {"decay", 0.0}}, data)->Describe().value();
  // The constant's prior (sd 100 sigma_i) still shrinks it slightly: within 1e-4.
  for (size_t r = 0; r < ols.coefficients.size(); ++r)
    for (int e = 0; e < 3; ++e) EXPECT_NEAR(flat.coefficients[r][e], ols.coefficients[r][e], 1e-4) << r << "," << e;
  auto tight =
      FitBvar({{"lags", 2}, {"lambda", 1e-6}, {"theta", 1.0}, {"decay", 1.0}, {"delta", Json::array({0.9, 0.0, 0.5})}},
          data)
          ->Describe()
          .value();
  EXPECT_NEAR(tight.coefficients[1][0], 0.9, 1e-6);  // own first lag of x0
  EXPECT_NEAR(tight.coefficients[3][2], 0.5, 1e-6);  // own first lag of x2
  EXPECT_NEAR(tight.coefficients[2][0], 0.0, 1e-6);  // x1 in the x0 equation
  EXPECT_NEAR(tight.coefficients[4][0], 0.0, 1e-6);  // lag 2
}

TEST(BvarTest, SearchPicksAnInteriorLambdaAndNotesGridEdges) {
  MultiInput data = Simulated(3, 150);
  auto d = FitBvar({{"lags", 3}}, data)->Describe().value();
  EXPECT_EQ(d.params["grid"].size(), 9u * 5u * 4u);
  const double lambda = d.params["lambda"].get<double>();
  EXPECT_GT(lambda, 0.01);
  EXPECT_LT(lambda, 2.0);
  auto edge = FitBvar({{"lags", 3}, {"lambda_grid", {1e-4, 2e-4}}}, data)->Describe().value();
  EXPECT_THAT(edge.notes, ::testing::Contains(HasSubstr("edge of the lambda grid")));
}

TEST(BvarTest, SimulationIsSeededAndConditionalPathsAreMet) {
  MultiInput data = Simulated(3, 100);
  auto m = FitBvar({{"lags", 2}, {"draws", 500}, {"seed", 9}}, data);
  auto a = m->Predict({.horizon = 6, .levels = {50, 90}});
  auto b = m->Predict({.horizon = 6, .levels = {50, 90}});
  ASSERT_THAT(a, IsOk());
  EXPECT_EQ(a->mean, b->mean);
  EXPECT_EQ(a->intervals[1].lower, b->intervals[1].lower);
  for (int i = 0; i < 3; ++i)
    for (int h = 0; h < 6; ++h) {
      EXPECT_LT(a->intervals[1].lower[i][h], a->intervals[0].lower[i][h]);
      EXPECT_LT(a->intervals[0].lower[i][h], a->mean[i][h]);
      EXPECT_LT(a->mean[i][h], a->intervals[0].upper[i][h]);
    }
  // Another seed moves the simulated numbers.
  auto m2 = FitBvar({{"lags", 2}, {"draws", 500}, {"seed", 10}}, data);
  EXPECT_NE(m2->Predict({.horizon = 6})->mean, a->mean);
  PathCondition c{"x1", {2.0, 2.5, kNaN, kNaN, kNaN, 3.0}};
  auto cond = m->Predict({.horizon = 6, .levels = {90}, .conditions = {c}, .keep_samples = true});
  ASSERT_THAT(cond, IsOk());
  EXPECT_EQ(cond->mean[1][0], 2.0);
  EXPECT_EQ(cond->mean[1][5], 3.0);
  for (double v : cond->samples[1][1]) EXPECT_EQ(v, 2.5);
  EXPECT_EQ(cond->intervals[0].lower[1][1], 2.5);
  // The conditions pull the correlated variable x0 (x0 depends on lagged x1).
  EXPECT_NE(cond->mean[0][1], a->mean[0][1]);
  EXPECT_THAT(m->Granger(std::vector<std::string>{"x0"}, {}), StatusIs(StatusCode::kUnimplemented));
  auto irf = m->ImpulseResponses({.periods = 4, .replications = 100});
  ASSERT_THAT(irf, IsOk());
  EXPECT_EQ(irf->replications, 100);
  EXPECT_LE(irf->lower[2][0][1], irf->upper[2][0][1]);
}

TEST(BvarTest, TooFewObservations) {
  auto m = CreateMultivariate({"bvar", {{"lags", 4}}});
  EXPECT_THAT((*m)->Fit(Simulated(3, 9)), StatusIs(StatusCode::kInvalidArgument, "needs at least"));
}

}  // namespace
}  // namespace almanac::models
