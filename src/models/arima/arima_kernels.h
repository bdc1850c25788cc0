// Numerical kernels of ARIMA estimation (models-internal): the ARMA polynomials of a
// (seasonal) ARIMA model, the stationarity-enforcing reparameterisation, the stationary
// state covariance, the Kalman-filter likelihoods and the conditional sum of squares.
//
// The state-space form is the one of R's stats::arima (Harvey 1989; Durbin & Koopman 2001):
// an ARMA(p, q) state of dimension r = max(p, q + 1) with transition T (first column phi,
// ones above the diagonal), disturbance loading R = (1, theta_1, .., theta_{r-1}), and, for
// differenced models, nd = d + D*m extra states holding the previous observations, observed
// through Z = (1, 0, .., 0, Delta). The innovation variance is scaled out (sigma2 = 1 in the
// filter) and profiled afterwards, as R does.
//
// Two likelihood kernels:
//  * ArmaLikelihood: the exact Gaussian likelihood of a zero-mean stationary ARMA series
//    without missing values, by the Chandrasekhar recursions (Morf, Sidhu & Kailath 1974),
//    which cost O(r) per observation instead of the O(r^2) of the Kalman covariance update.
//    It only needs the first column of the stationary covariance. Used while optimising
//    when the (differenced) data have no missing values.
//  * FullStateFilter: R's filter on the full (r + nd)-dimensional state with the diffuse
//    part initialised with variance kappa (1e6) and observations whose prediction variance
//    is >= 1e4 left out of the likelihood, as R's ARIMA_Like. It skips missing values,
//    yields the standardised residuals R reports and the final state for forecasting, and
//    gives the log-likelihood R reports (which differs from the exact differenced-data
//    likelihood by O(1/kappa)). Whenever the last nd observations are present it runs on
//    the ARMA block only (the lag states are then known exactly), which gives the same
//    numbers for a fraction of the work.
//
// All functions are pure; the workspace structs only hold scratch memory so that the
// optimiser's inner loop does not allocate. Not thread-safe per workspace object.
#pragma once

#include <algorithm>
#include <complex>
#include <span>
#include <vector>

namespace almanac::models::arima {

// The orders of a seasonal ARIMA(p,d,q)(P,D,Q)[m] model.
struct Orders {
  int p = 0, d = 0, q = 0;
  int P = 0, D = 0, Q = 0;
  int m = 1;  // seasonal period
  int narma() const { return p + q + P + Q; }
  int nd() const { return d + D * m; }  // length of the differencing polynomial
  int p_full() const { return p + m * P; }  // degree of the expanded AR polynomial
  int q_full() const { return q + m * Q; }
  int r() const { return std::max(p_full(), q_full() + 1); }
};

// Multiplies out the non-seasonal and seasonal polynomials: `params` holds ar[p], ma[q],
// sar[P], sma[Q] (R's coefficient order); phi gets p + m*P entries and theta q + m*Q, with
// (1 - sum phi_i B^i) = (1 - sum ar_i B^i)(1 - sum sar_j B^{jm}) and
// (1 + sum theta_i B^i) = (1 + sum ma_i B^i)(1 + sum sma_j B^{jm}).
void ExpandArma(const Orders& o, const double* params, double* phi, double* theta);

// The differencing polynomial coefficients Delta (length nd) such that
// (1-B)^d (1-B^m)^D y_t = y_t - sum_i Delta_i y_{t-i}.
std::vector<double> DifferencingPolynomial(int d, int D, int m);

// Maps unconstrained values to the coefficients of a stationary AR(p) polynomial: tanh to
// partial autocorrelations in (-1, 1), then the Durbin-Levinson recursion (Jones 1980;
// R's partrans). `in` and `out` may not alias.
void PacfToAr(int p, const double* in, double* out);
// The inverse of PacfToAr for a stationary AR polynomial (non-finite output otherwise).
void ArToPacf(int p, const double* in, double* out);

// Applies PacfToAr to the AR and seasonal AR blocks of a full coefficient vector (in R's
// order ar, ma, sar, sma, xreg...); other entries are copied.
void TransformArBlocks(const Orders& o, std::span<const double> in, std::span<double> out);
// Applies ArToPacf to the same blocks.
void InverseTransformArBlocks(const Orders& o, std::span<const double> in, std::span<double> out);
// Forward-difference Jacobian (step 1e-3, as R's ARIMA_Gradtrans) of TransformArBlocks:
// A[i*n + j] = d out_j / d in_i, identity outside the AR blocks.
std::vector<double> TransformJacobian(const Orders& o, std::span<const double> in);

// The roots of c[0] + c[1] z + ... + c[k] z^k with c[k] != 0 (eigenvalues of the companion
// matrix). Empty for k == 0.
std::vector<std::complex<double>> PolyRoots(std::span<const double> c);

// True when the AR polynomial 1 - sum ar_i z^i has all roots outside the unit circle
// (trailing zero coefficients ignored), as R's arCheck.
bool ArIsStationary(std::span<const double> ar);

// Reflects the roots of 1 + sum ma_i z^i that lie inside the unit circle to their inverses,
// giving the invertible MA polynomial with the same autocorrelations (R's maInvert).
std::vector<double> InvertMa(std::span<const double> ma);

// Scratch memory for the likelihood kernels.
struct ArmaWorkspace {
  std::vector<double> gamma, psi, sys, rhs, col, a, k, w, tw;
  std::vector<int> piv;
};

// Autocovariances ws.gamma[0..nlags] of the ARMA process phi(B) y = theta(B) e with unit
// innovation variance, and its psi weights ws.psi[0..nlags]. Returns false when the AR
// part has a unit root (singular system) or the result is not finite.
bool ArmaAutocovariance(std::span<const double> phi, std::span<const double> theta, int nlags, ArmaWorkspace& ws);

// First column (length r) of the stationary covariance of the ARMA state (R's getQ0 / Q0).
bool StationaryFirstColumn(std::span<const double> phi, std::span<const double> theta, ArmaWorkspace& ws,
                           double* col);
// The full r x r stationary covariance (row-major).
bool StationaryCovariance(std::span<const double> phi, std::span<const double> theta, ArmaWorkspace& ws,
                          std::vector<double>& out);

// Sums that make up the concentrated Gaussian log-likelihood: with sigma2 = ssq / nu, the
// objective R minimises is 0.5 * (log(ssq / nu) + sumlog / nu).
struct LikelihoodSums {
  double ssq = 0;
  double sumlog = 0;
  int nu = 0;
  bool ok = true;  // false when the stationary covariance could not be computed
  double Objective() const;
};

// Exact likelihood of a zero-mean stationary ARMA series `w` without missing values.
LikelihoodSums ArmaLikelihood(std::span<const double> w, std::span<const double> phi,
                              std::span<const double> theta, ArmaWorkspace& ws);

// R's Kalman filter on the full ARIMA state (see the file comment).
class FullStateFilter {
 public:
  // phi, theta: the expanded ARMA polynomials; delta: the differencing polynomial.
  FullStateFilter(std::span<const double> phi, std::span<const double> theta, std::span<const double> delta,
                  double kappa = 1e6);

  // False when the stationary covariance could not be computed.
  bool ok() const { return ok_; }

  // Runs the filter over y (NaN = missing) from the initial state. Fills `residuals`
  // (standardised innovations, NaN where y is missing) when non-null. The final state is
  // kept for Forecast().
  LikelihoodSums Run(std::span<const double> y, std::vector<double>* residuals);

  // h-step forecasts of the filtered series from the final state and their variances (in
  // units of sigma2), as R's KalmanForecast.
  void Forecast(int horizon, std::vector<double>& mean, std::vector<double>& var) const;

  int dim() const { return rd_; }
  const std::vector<double>& state() const { return a_; }
  const std::vector<double>& covariance() const { return P_; }
  // Replaces the final state (used when a model is loaded from its serialized form).
  void SetState(std::vector<double> a, std::vector<double> P);

 private:
  // out = T * in for a state vector.
  void ApplyT(const double* in, double* out) const;
  // Pnew = T P T' + V.
  void Propagate(const std::vector<double>& P, std::vector<double>& Pnew, std::vector<double>& tmp) const;

  int p_, q_, r_, nd_, rd_;
  std::vector<double> phi_, theta_, delta_;
  std::vector<double> rvec_;  // R = (1, theta, 0...) of length r
  std::vector<double> a_, P_, Pn_;
  bool ok_ = true;
};

// R's ARIMA_CSS: differences x (d times at lag 1, D times at lag m), then the conditional
// residuals from observation `ncond` on. Returns ssq / nu (NaN when nu == 0). When
// `residuals` is non-null it receives the residuals (0 before ncond).
double ConditionalSumOfSquares(std::span<const double> x, const Orders& o, std::span<const double> phi,
                               std::span<const double> theta, int ncond, std::vector<double>& work,
                               std::vector<double>* residuals);

// Differences x in place of a copy: d times at lag 1, D times at lag m (dropping the first
// values), as R's diff().
std::vector<double> Difference(std::span<const double> x, int d, int D, int m);

}  // namespace almanac::models::arima
