// A variable-metric (BFGS) minimiser with finite-difference gradients and Hessians, following
// the algorithm R's optim(method = "BFGS") uses (Nash 1990, "Compact Numerical Methods for
// Computers", Algorithm 21: backtracking line search with acceptance tolerance 1e-4 and step
// reduction 0.2, inverse-Hessian update, restart when the update is not positive), with
// optim's conventions: parameters are optimised on the scale par / parscale, gradients are
// central differences with step ndeps = 1e-3 on that scale, convergence is a relative change
// of the objective below reltol. Following the same algorithm keeps the optimum reached
// close to R's, which matters when the objective is flat (ARIMA likelihoods often are).
// Models-internal; pure functions, thread-compatible.
#pragma once

#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "almanac/core/status.h"

namespace almanac::models::arima {

// The objective, called with parameters on their natural scale. May return a non-finite
// value for an invalid point (the line search then backs off).
using ObjectiveFn = std::function<double(const double*)>;

struct BfgsOptions {
  int maxit = 100;
  double abstol = -std::numeric_limits<double>::infinity();
  double reltol = 1.4901161193847656e-08;  // sqrt(machine epsilon), optim's default
  double ndeps = 1e-3;
  std::vector<double> parscale;  // empty: all ones
};

struct BfgsResult {
  std::vector<double> par;  // natural scale
  double value = 0;
  int fncount = 0;
  int grcount = 0;
  int convergence = 0;  // 0 converged, 1 maxit reached
};

// Minimises fn from `start`. InvalidArgument when the initial value is not finite;
// FailedPrecondition when a finite-difference gradient is not finite (as optim's errors).
Result<BfgsResult> MinimiseBfgs(const ObjectiveFn& fn, std::vector<double> start, const BfgsOptions& opt);

// The Hessian of fn at `par` (natural scale) by central differences of finite-difference
// gradients, as R's optimHess (symmetrised). Row-major n x n. FailedPrecondition when a
// difference is not finite.
Result<std::vector<double>> NumericHessian(const ObjectiveFn& fn, const std::vector<double>& par,
                                           const BfgsOptions& opt);

}  // namespace almanac::models::arima
