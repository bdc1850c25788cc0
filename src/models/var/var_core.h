// The numerical core shared by the VAR and BVAR forecasters: least squares through centred
// cross-products, moving-average representation, forecasts and their error covariance,
// companion eigenvalues, conditional-forecast algebra and simulation. Internal to models.
//
// Layout conventions (statsmodels'): data is T x K (rows are periods). A coefficient matrix B
// is m x K with m = d + K p: the d deterministic rows first (constant, then trend), then
// lag 1 of every variable, lag 2 ...; column e is equation e. A_j (K x K, row = equation) is
// B.block(d + K (j-1), 0, K, K) transposed.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <Eigen/Dense>

#include "almanac/models.h"

namespace almanac::models::var {

using Eigen::MatrixXd;
using Eigen::VectorXd;

int NumDeterministic(VarTrend trend);

// The regressor names of a VAR(p): "const", "trend", "L1.<name>" ...
std::vector<std::string> RegressorNames(const std::vector<std::string>& names, int p, VarTrend trend);

// Data as a T x K matrix, from a validated MultiInput. InvalidArgument for missing or
// non-finite values (naming the variable and period) or ragged input.
Result<MatrixXd> ToMatrix(const MultiInput& data);
// "1959Q2" when the input has a start period, else "t=5" (1-based).
std::string PeriodLabel(const MultiInput& data, int64_t t);

// A least-squares VAR fit.
struct OlsFit {
  int p = 0;
  VarTrend trend = VarTrend::kConstant;
  int nobs = 0;      // rows used
  MatrixXd b;        // m x K
  MatrixXd sse;      // K x K residual cross-products
  MatrixXd zz_inv;   // m x m inverse of Z'Z (only when requested)
  double rcond = 1;  // reciprocal condition estimate of the scaled normal equations
};

// Builds the centred cross-products of [regressors, Y] for rows first..T-1 of `y` with up to
// `max_p` lags (first >= max_p); then FitLeading() solves VAR(p) for any p <= max_p on them,
// so lag selection forms the cross-products once.
class CrossProducts {
 public:
  CrossProducts(const MatrixXd& y, int max_p, VarTrend trend, int first);

  int nobs() const { return n_; }
  // Solves the VAR(p) regression on the leading columns. InvalidArgument for a collinear
  // system, naming the variables (`names`, `data` for messages).
  Result<OlsFit> FitLeading(int p, bool want_inverse, const MultiInput& data) const;
  // The residual cross-products of every order p_min..max_p (entry p - p_min), without the
  // coefficients: one Cholesky factor of the largest scaled normal matrix serves every order,
  // since the factor of a leading block is the leading block of the factor, and
  // SSE_p = Y'Y - W_p'W_p with W = L^{-1} X'Y. Orders whose pivots signal collinearity fall
  // back to FitLeading (which names the variables).
  // Keeps the factor, so that FitFromFactor() can then solve any order by one triangular solve.
  Result<std::vector<MatrixXd>> SsePerOrder(int p_min, const MultiInput& data);
  // VAR(p) coefficients and residual cross-products from the factor kept by SsePerOrder (no
  // inverse; `rcond` is then the smallest squared pivot); FitLeading when there is none.
  Result<OlsFit> FitFromFactor(int p, const MultiInput& data) const;

 private:
  int k_, max_p_, n_, q_;  // q_: regressors excluding the constant
  VarTrend trend_;
  bool centred_;
  VectorXd xbar_, ybar_;
  MatrixXd gram_;  // (q + K) x (q + K): [X Y]' [X Y], centred when there is a constant
  // Set by SsePerOrder: the scaled factor of the regressor block, L^{-1} D X'Y, the scales and
  // the running minimum of the squared pivots.
  MatrixXd chol_, w_;
  VectorXd scale_;
  std::vector<double> min_pivot_;
};

// Fits VAR(p) on all usable rows (p..T-1). InvalidArgument for too few observations
// (needs T - p - (K p + d) >= K) or a collinear system.
Result<OlsFit> FitVarOls(const MatrixXd& y, int p, VarTrend trend, bool want_inverse, const MultiInput& data);

// Moving-average coefficients Phi_0 = I, Phi_i = sum_{j=1..min(i,p)} Phi_{i-j} A_j, i < n.
std::vector<MatrixXd> MaRep(const MatrixXd& b, int k, int p, int d, int n);

// Point forecasts (h x K) from the last p rows of `y` (T x K), where the first forecast step is
// observation number t_next (1-based, for the trend term).
MatrixXd PointForecast(const MatrixXd& b, int p, VarTrend trend, const MatrixXd& y, int horizon);

// Forecast error covariances MSE(h) = sum_{i<h} Phi_i Sigma Phi_i', h = 1..horizon.
std::vector<MatrixXd> ForecastMse(const std::vector<MatrixXd>& phi, const MatrixXd& sigma, int horizon);

// Moduli of the companion matrix eigenvalues, largest first, and for the largest root > 1 - tol
// the variables whose first-block eigenvector loading is large (for messages).
struct Stability {
  std::vector<double> moduli;
  bool stable = true;
  std::vector<std::string> explosive_variables;
};
Stability CheckStability(const MatrixXd& b, int k, int p, int d, const std::vector<std::string>& names);

// Lower Cholesky factor of a covariance matrix; InvalidArgument when it is not positive
// definite.
Result<MatrixXd> CholeskyLower(const MatrixXd& sigma, std::string_view what);

// The stacked impact matrix M (HK x HK) of the structural shocks eps_{T+1..T+H} on the
// forecast errors: block (h, s) = Phi_{h-s} P for s <= h (0-based steps).
MatrixXd ImpactMatrix(const std::vector<MatrixXd>& phi, const MatrixXd& chol, int horizon);

// Waggoner & Zha (1999) hard conditions on a Gaussian forecast: the shocks that satisfy the
// conditions with minimum norm (= their conditional mean under N(0, I)) and the projection onto
// the shocks left free. `rows` are indices h*K + i of conditioned (step, variable) pairs and
// `gaps` the condition value minus the unconditional mean there.
struct ConditionalShocks {
  VectorXd eps_star;   // HK
  MatrixXd free_proj;  // HK x HK: I - R'(RR')^{-1} R
};
Result<ConditionalShocks> SolveConditions(const MatrixXd& impact, const std::vector<int>& rows, const VectorXd& gaps);

// Index conditions: (h*K + i, value) pairs from PathConditions, validating variable names and
// lengths. InvalidArgument names the problem.
struct IndexedConditions {
  std::vector<int> rows;
  std::vector<double> values;
};
Result<IndexedConditions> IndexConditions(const std::vector<PathCondition>& conditions,
                                          const std::vector<std::string>& names, int horizon);

// Quantile bands from draws: draws[var][h] holds the simulated values (reordered in place).
void BandsFromDraws(std::vector<std::vector<std::vector<double>>>& draws, std::span<const double> levels,
                    std::vector<MultiInterval>& out);

// JSON helpers for matrices (row-major nested arrays).
Json MatrixToJson(const MatrixXd& m);
Result<MatrixXd> MatrixFromJson(const Json& j, std::string_view what);
std::vector<std::vector<double>> ToNested(const MatrixXd& m);

}  // namespace almanac::models::var
