// TBATS: exponential smoothing state space model with Box-Cox transformation, ARMA errors,
// trend and trigonometric seasonal components (De Livera, Hyndman & Snyder 2011, "Forecasting
// time series with complex seasonal patterns using exponential smoothing", JASA 106:496), as
// R forecast 8.20's tbats() fits it, written from the paper and R's documented behaviour.
//
// The model, on y_t^(λ) (Box-Cox, optional):
//   y_t^(λ) = l_{t-1} + φ b_{t-1} + Σ_i s^(i)_{t-1} + d_t
//   l_t = l_{t-1} + φ b_{t-1} + α d_t          b_t = φ b_{t-1} + β d_t   (trend optional)
//   s^(i)_t = Σ_{j<=k_i} s^(i)_{j,t}, each harmonic j of period m_i rotating by λ_ij = 2πj/m_i:
//     s_{j,t} = s_{j,t-1} cos λ_ij + s*_{j,t-1} sin λ_ij + γ1_i d_t
//     s*_{j,t} = -s_{j,t-1} sin λ_ij + s*_{j,t-1} cos λ_ij + γ2_i d_t
//   d_t = Σ φ_k d_{t-k} + Σ θ_k ε_{t-k} + ε_t                               (ARMA optional)
// Periods may be non-integer (52.18, 365.25). The state vector is
// x = (l, b, [s_1..s_k, s*_1..s*_k] per period, d_{t-1..t-p}, ε_{t-1..t-q}).
//
// Estimation follows forecast::tbats: seed states by least squares of the zero-seed errors on
// the w̃ regressors at the starting parameters; parameters by Nelder-Mead (Nash's variant, as
// R's optim, with R's parscale and iteration limit) on n·log(SSE) - 2(λ-1)Σ log y, with R's
// admissibility checks; AIC = that + 2(parameters + seed states). Model selection (harmonics
// per period, Box-Cox, trend, damping, ARMA orders from auto ARIMA on the residuals, and the
// non-seasonal model) follows tbats()'s serial search. docs/models-seasonal.md lists what
// differs from R.
#pragma once

#include <limits>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "almanac/core/status.h"
#include "almanac/models.h"

namespace almanac::models::tbats {

// Which components a TBATS model has.
struct TbatsStructure {
  bool box_cox = false;
  bool trend = false;
  bool damped = false;          // only with trend
  std::vector<double> periods;  // increasing; empty: the non-seasonal (BATS) model
  std::vector<int> k;           // harmonics per period
  int p = 0, q = 0;             // ARMA orders of the errors

  int Tau() const;        // 2 Σ k
  int NumStates() const;  // 1 + trend + tau + p + q
  // R's name: "TBATS(λ, {p,q}, φ, {<m1,k1>, <m2,k2>})" with "1" for no Box-Cox, "-" for no
  // damping.
  std::string Name(double lambda, double phi) const;
};

struct TbatsParams {
  double lambda = std::numeric_limits<double>::quiet_NaN();  // when box_cox
  double alpha = 0;
  double beta = 0;  // when trend
  double phi = 1;   // damping; 1 when undamped
  std::vector<double> gamma1, gamma2;  // one per period
  std::vector<double> ar, ma;          // p and q coefficients
};

struct TbatsFit {
  TbatsStructure structure;
  TbatsParams params;
  std::vector<double> seed;    // x_0 on the transformed scale
  std::vector<double> state;   // x_n, where forecasts start
  std::vector<double> fitted;  // one-step fits on the original scale
  std::vector<double> errors;  // innovations ε_t on the transformed scale
  // R's criterion n·log(SSE) - 2(λ-1)Σ log y (forecast's `likelihood`) and its AIC.
  double likelihood = std::numeric_limits<double>::infinity();
  double aic = std::numeric_limits<double>::infinity();
  double variance = std::numeric_limits<double>::quiet_NaN();  // SSE / n
  int optim_code = 0;  // Nelder-Mead: 0 converged, 1 iteration limit
  int npar = 0;        // estimated smoothing/Box-Cox/ARMA parameters
};

// Runs the model with fixed parameters and seed states over y: the fit R reports for those
// values (likelihood, AIC, fitted values, final state). InvalidArgument when the sizes do not
// match the structure or y is not positive with Box-Cox.
Result<TbatsFit> EvaluateTbats(std::span<const double> y, const TbatsStructure& s, const TbatsParams& params,
                               std::span<const double> seed);

// Estimates one model structure as R's fitSpecificTBATS (ARMA coefficients start at 0).
// `init_lambda` is the Box-Cox starting value; bc_lower < λ < bc_upper. Internal or
// FailedPrecondition when the objective cannot be evaluated at the start (R's try-error).
Result<TbatsFit> FitTbatsStructure(std::span<const double> y, const TbatsStructure& s, double init_lambda,
                                   double bc_lower = 0, double bc_upper = 1);

// Choices of the automatic search: nullopt tries both, as R's NULL.
struct TbatsOptions {
  std::vector<double> periods;  // > 1; sorted and de-duplicated by AutoTbats
  std::optional<bool> use_box_cox, use_trend, use_damped_trend;
  // nullopt: R's use.arma.errors = TRUE (ARMA errors kept when they lower the AIC);
  // true: kept whenever auto ARIMA finds p + q > 0; false: none.
  std::optional<bool> use_arma_errors;
  double bc_lower = 0, bc_upper = 1;
};

// tbats(): the selected model. InvalidArgument for bad periods, too short data, NaN, or a
// forced Box-Cox on non-positive data.
Result<TbatsFit> AutoTbats(std::span<const double> y, const TbatsOptions& options, std::vector<std::string>* notes);

struct TbatsForecast {
  std::vector<double> mean;      // transformed scale
  std::vector<double> variance;  // of the h-step error, transformed scale
};
// Point forecasts and error variances (σ² Σ_{j<h} c_j², c_j = w'F^{j-1}g) from fit.state.
// IMPORTANT: R forecast 8.20's forecast.tbats() builds g with `object$beta.v`, a field a tbats
// fit does not have, so for trend models its g lacks β and holds the seasonal γ one slot early
// (in β's place): its intervals of trend models differ from the model's for h >= 2. We use the
// model's g; `r_beta_quirk` = true reproduces R's variances, which the goldens test uses to
// check everything else in the interval arithmetic.
TbatsForecast ForecastTbats(const TbatsFit& fit, int horizon, bool r_beta_quirk = false);

}  // namespace almanac::models::tbats

namespace almanac::models {
ModelType TbatsModelType();
}  // namespace almanac::models
