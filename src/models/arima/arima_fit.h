// Fitting one (seasonal) ARIMA model with fixed orders, as R's stats::arima() wrapped by
// forecast::Arima() (models-internal).
//
// What follows R exactly (the algorithms, not the code): the parameter vector and its order
// (ar, ma, sar, sma, intercept, drift), the regression start values and parameter scales
// from least squares on the differenced data (with the SVD rotation R applies when several
// regression coefficients are free), CSS starting values, the check of the CSS AR part, the
// PACF/tanh reparameterisation with MA roots reflected inside the unit circle, the BFGS
// optimiser with finite differences (optim_bfgs.h), the numerical Hessian and the
// coefficient covariance, sigma2, loglik/AIC (R's number of parameters: free coefficients
// + 1) and forecast's AICc/BIC and bias-corrected sigma2.
//
// What differs for speed: while optimising on data without missing values, the likelihood
// is the exact likelihood of the differenced series computed by the Chandrasekhar
// recursions; R runs its Kalman filter over the full state with a diffuse prior of variance
// kappa = 1e6 on the differencing states, which differs by O(1/kappa). The reported
// log-likelihood, residuals and forecast state come from R's full-state filter run once at
// the optimum, so they are R's quantities at (almost) R's optimum.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "almanac/core/status.h"
#include "models/arima/arima_kernels.h"

namespace almanac::models::arima {

enum class Method { kCssMl, kMl, kCss };
const char* MethodName(Method m);

struct ArimaSpec {
  Orders orders;
  bool include_mean = true;   // intercept when d + D == 0
  bool include_drift = false; // drift column 1..n (caller decides when it applies)
  Method method = Method::kCssMl;
  // Empty, or one value per coefficient (narma + regression columns, in R's order) with NaN
  // for the coefficients to estimate.
  std::vector<double> fixed;
  bool transform_pars = true;
  double kappa = 1e6;
  // When false the Hessian (and so var_coef) is not computed by Fit(); ComputeVariance()
  // can do it later. auto_arima only needs it for models that would be selected.
  bool compute_hessian = true;
  // Optimise R's full-state diffuse likelihood (kappa prior on the differencing states)
  // instead of the exact likelihood of the differenced data. Slower for differenced models;
  // lands on R's optimum rather than within O(1/kappa) of it.
  bool full_state_likelihood = false;
  // Exogenous regressors (regression with ARIMA errors, R's Arima(xreg = )): columns of the
  // same length as y without missing values, after the intercept and drift in the coefficient
  // order; named by xreg_names (default xreg1, xreg2, ...).
  std::vector<std::vector<double>> xreg;
  std::vector<std::string> xreg_names;
};

// A fitted model: everything Describe/Predict/SaveState need.
struct ArimaFit {
  Orders orders;
  Method method = Method::kCssMl;  // the method actually used (CSS-ML becomes ML with NAs)
  std::vector<std::string> coef_names;
  std::vector<double> coef;
  std::vector<bool> mask;          // true for estimated coefficients
  std::vector<double> var_coef;    // free x free, row-major; empty when not computed
  bool has_var = false;
  bool var_bad = false;            // some variance is negative/NaN (forecast's checkarima)
  bool has_intercept = false, has_drift = false;
  int num_xreg = 0;                // exogenous regressors (coefficients after intercept and drift)
  int n = 0;                       // length of the fitted series (drift continues at n + 1)
  int n_used = 0;                  // R's nobs: non-missing observations minus differencing
  int nstar = 0;                   // forecast's nstar
  int npar = 0;                    // free coefficients + 1 (sigma2)
  double sigma2_css = 0;           // stats::arima's sigma2 (ssq / n.used, or CSS variance)
  double sigma2 = 0;               // forecast's sigma2: sum(resid^2) / (nstar - npar + 1)
  double loglik = 0, aic = 0, aicc = 0, bic = 0;
  int convergence = 0;
  std::vector<double> residuals;   // R's residuals (standardised innovations; NaN if missing)
  // The state-space model and its final filtered state, for forecasting.
  std::vector<double> phi, theta, delta, state, state_cov;
  std::vector<std::string> notes;
  // Where the optimiser stopped (its own parameterisation), for ComputeVariance().
  std::vector<double> opt_par;     // free parameters as optimised
  std::vector<double> opt_full;    // all coefficients in the optimiser's parameterisation
  bool opt_transformed = false;    // ML with the PACF transform of the AR blocks
  std::vector<double> xreg_rotation;  // R's SVD rotation of the regression columns (row-major)

  std::string Description() const;  // "ARIMA(0,1,1)(0,1,1)[12]", "... with drift" etc.
};

// Fits spec on y (NaN = missing). InvalidArgument for unusable input (too few
// observations, wrong `fixed` length, non-stationary fixed AR part, non-stationary CSS
// start); FailedPrecondition when the optimiser or the covariance computation fails (R's
// arima would stop with an error there too).
Result<ArimaFit> FitArima(std::span<const double> y, const ArimaSpec& spec);

// Computes the Hessian-based coefficient covariance of a fit made with
// compute_hessian = false (needs the same y and spec). Sets has_var/var_bad; an error
// means R's solve() would have failed (singular Hessian).
Status ComputeVariance(std::span<const double> y, const ArimaSpec& spec, ArimaFit& fit);

// Point forecasts and their standard errors (with fit.sigma2) for h = 1..horizon. A fit with
// exogenous regressors needs their future values: future_xreg[j][h-1] for each regressor j
// (fit.num_xreg columns of at least `horizon` values).
void ForecastArima(const ArimaFit& fit, int horizon, std::vector<double>& mean, std::vector<double>& se,
                   std::span<const std::vector<double>> future_xreg = {});

// One-step in-sample fitted values y - residuals.
std::vector<double> FittedValues(std::span<const double> y, const ArimaFit& fit);

// Roots check of forecast's myarima: the smallest modulus of the roots of the expanded AR
// and MA polynomials (trailing coefficients below 1e-8 dropped), 2 when there are none.
double MinRootModulus(const ArimaFit& fit);

}  // namespace almanac::models::arima
