// The numerical core of exponential smoothing in innovations state-space form (Hyndman,
// Koehler, Ord & Snyder 2008, "Forecasting with Exponential Smoothing: the state space
// approach"; Hyndman, Koehler, Snyder & Grose 2002): the filtering recursion and its
// likelihood, R forecast's initial-state heuristic and parameter bounds, and the fit of one
// model form by maximum likelihood. Models-internal; the Forecaster lives in ets.h.
//
// State layout (as R's ets() reports it): x = [l, b?, s1, ..., sm] where s1 is the most
// recent seasonal state and sm the oldest (the one the next forecast uses).
#pragma once

#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "almanac/core/status.h"

#include "models/ets/nelder_mead.h"

namespace almanac::models::ets {

enum class Comp : std::uint8_t { kN = 0, kA = 1, kM = 2 };

char CompChar(Comp c);

// One model form: error, trend (damped or not) and season, with the seasonal period.
struct Form {
  Comp error = Comp::kA;
  Comp trend = Comp::kN;
  Comp season = Comp::kN;
  bool damped = false;
  int m = 1;  // the period in the state; 1 when season is N

  // "ETS(M,Ad,M)".
  std::string Name() const;
  // "MAdM".
  std::string Code() const;
  int NumStates() const { return 1 + (trend != Comp::kN ? 1 : 0) + (season != Comp::kN ? m : 0); }
};

struct Smoothing {
  double alpha = 0;
  double beta = 0;   // 0 without trend
  double gamma = 0;  // 0 without season
  double phi = 1;    // 1 without damping
};

// Which criterion the optimiser minimises (R's opt.crit).
enum class OptCrit { kLik, kAmse, kMse, kSigma, kMae };
// Which parameter region is allowed (R's bounds).
enum class Bounds { kBoth, kUsual, kAdmissible };

// R's "NA" forecast marker for a multiplicative trend that went negative.
inline constexpr double kNaForecast = -99999.0;

// What one pass of the recursion gives.
struct Pass {
  // n*log(sum e^2) (+ 2*sum log|yhat| for multiplicative errors): minus twice the
  // log-likelihood up to a constant, as R's etscalc defines it. NaN when a multiplicative
  // trend went negative (the forecast is undefined).
  double lik = 0;
  std::vector<double> e;           // innovations (relative for multiplicative errors)
  std::vector<double> amse;        // mean squared 1..nmse-step errors (only when asked)
  std::vector<double> last_state;  // x_n in the layout above
};

// Runs the recursion from the full initial state x0 (NumStates() values). With `record`
// the innovations and final state are kept; with nmse > 0 the multi-step errors too.
Pass RunPass(const Form& form, const Smoothing& par, std::span<const double> y, std::span<const double> x0, bool record,
             int nmse = 0);

// Fast likelihood-only pass for the optimiser (no allocation: `season_buf` needs m slots).
// Same arithmetic, hence bit-identical results, as RunPass(...).lik.
double LikOnly(const Form& form, const Smoothing& par, const double* y, int n, const double* x0, double* season_buf);

// Point forecasts for h = 1..h from state x (R's etsforecast). kNaForecast in every slot
// when a multiplicative trend is negative.
std::vector<double> PointForecast(const Form& form, double phi, std::span<const double> x, int h);

// The one-step forecast from state x (first slot of PointForecast, without allocating).
double OneStepForecast(const Form& form, double phi, const double* x);

// Filters one step: x -> x' given observation y (R's update, identical for both error types).
void UpdateState(const Form& form, const Smoothing& par, double* x, double y, double* scratch);

// Largest number of polynomial coefficients the admissibility test handles (m <= 62).
inline constexpr int kMaxPolyCoefs = 64;
// R's tolerance on the roots' modulus in the admissibility test.
inline constexpr double kAdmissibleRadius = 1 + 1e-10;

// R's admissibility region for (alpha, beta, gamma, phi) with seasonal period m; has_beta /
// has_gamma say whether the form has a trend / season. For seasonal forms the characteristic
// polynomial's roots must lie within 1 + 1e-10 (the exact unit root of forms without trend
// and damping is factored out first; see ets_core.cc).
bool Admissible(double alpha, double beta, bool has_beta, double gamma, bool has_gamma, double phi, int m);

// Admissible() up to the root test: false when one of the linear conditions fails; else
// true, with the polynomial whose roots must lie within kAdmissibleRadius in
// c[0..*degree] (kMaxPolyCoefs slots), or *degree = 0 when there is none to test.
bool AdmissibleLinear(double alpha, double beta, bool has_beta, double gamma, bool has_gamma, double phi, int m,
                      double* c, int* degree);

// True when every root of the polynomial c[0] + c[1] z + ... + c[d] z^d (c[d] != 0) has
// modulus below `radius` (Schur-Cohn test on the rescaled polynomial; roots exactly at
// `radius` are numerically undecided).
bool RootsWithin(std::span<const double> c, double radius);

// RootsWithin() for k <= 4 polynomials of the same degree d (coefficients c[j][0..d]) at
// once: inside[j] is exactly what RootsWithin(c[j]) gives. The test is a chain of d
// divisions, each waiting for the previous; side by side in vectors, several cost about as
// much as one.
void RootsWithinMany(const double* const* c, int k, int d, double radius, bool* inside);

// R's initstate(): level (and trend) from a regression on the first max(10, 2m)
// deseasonalised values; seasonal states from a classical decomposition (n >= 3m) or a
// regression on a trend and one Fourier pair (n < 3m). Returns [l, b?, s1..s_{m-1}]
// (the last seasonal state is implied by the normalisation). InvalidArgument for n < 4 with
// a seasonal model.
Result<std::vector<double>> InitialState(std::span<const double> y, Comp trend, Comp season, int m);

// Classical decomposition's seasonal figure (R's decompose()), length m, indexed by the
// position in the cycle relative to the first observation.
std::vector<double> DecomposeFigure(std::span<const double> y, int m, bool multiplicative);

// Bounds and fixed values of one fit.
struct FitControl {
  // R's lower/upper for alpha, beta, gamma, phi.
  double lower[4] = {1e-4, 1e-4, 1e-4, 0.8};
  double upper[4] = {0.9999, 0.9999, 0.9999, 0.98};
  // Fixed values (NaN = estimate).
  double alpha = std::numeric_limits<double>::quiet_NaN();
  double beta = std::numeric_limits<double>::quiet_NaN();
  double gamma = std::numeric_limits<double>::quiet_NaN();
  double phi = std::numeric_limits<double>::quiet_NaN();
  OptCrit crit = OptCrit::kLik;
  Bounds bounds = Bounds::kBoth;
  int nmse = 3;
  int max_evals = 2000;
  // Optimiser points evaluated per pass over the data, at most (NelderMeadSpeculative):
  // 4 needs AVX (else 2); 1 turns the look-ahead off. Same results for every value.
  int lanes = 4;
};

// One fitted form.
struct FitResult {
  Form form;
  Smoothing par;
  std::vector<double> x0;          // full initial state
  std::vector<double> last_state;  // x_n
  std::vector<double> e;           // innovations
  double lik = 0;                  // as Pass::lik
  double loglik = 0, aic = 0, aicc = 0, bic = 0;
  int np = 0;           // parameters counted in the information criteria (incl. sigma)
  int n_par_sigma = 0;  // parameters counted in sigma2's denominator (R: optimised + fixed + states)
  int evals = 0;
  int nm_fail = 0;
};

// Fits one form by minimising the criterion with Nelder-Mead from R's starting values.
// InvalidArgument when the starting parameters violate the bounds ("parameters out of
// range"), FailedPrecondition when there are too few observations for the number of
// parameters or the objective is not finite at the start.
Result<FitResult> FitForm(std::span<const double> y, const Form& form, const FitControl& ctl, NelderMeadWorkspace& ws);

}  // namespace almanac::models::ets
