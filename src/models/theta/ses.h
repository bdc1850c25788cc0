// Simple exponential smoothing fitted by maximum likelihood (models-internal, used by `theta`).
//
// The model is ETS(A,N,N): y_t = l_{t-1} + e_t, l_t = l_{t-1} + alpha * e_t, with Gaussian
// errors. Its likelihood, with sigma^2 concentrated out, is a function of SSE(alpha, l0)
// alone, which is what R forecast's ses()/ets(model = "ANN") minimise (there with
// Nelder-Mead over alpha and l0). Here the optimum is found more directly: the one-step
// errors are linear in l0, so for each alpha the best l0 is a least-squares solution in closed
// form, and the profile SSE(alpha) is minimised over alpha in [1e-4, 0.9999] (ets's default
// bounds) by a grid search followed by Brent's method. This reaches the exact optimum that
// Nelder-Mead approximates, so alpha may differ from R's in the last digits (more when the
// likelihood is flat).
#pragma once

#include <span>
#include <vector>

namespace almanac::models {

struct SesFit {
  double alpha = 0;
  double l0 = 0;     // initial level
  double level = 0;  // l_n, the level after the last observation (the point forecast)
  double sse = 0;    // sum of squared one-step errors
  int n = 0;
};

inline constexpr double kSesAlphaLower = 1e-4;
inline constexpr double kSesAlphaUpper = 0.9999;

// Fits SES on y (no missing values, size >= 1). Deterministic.
SesFit FitSes(std::span<const double> y);

// Runs the recursions for fixed alpha and l0; fills the one-step fitted values l_{t-1} when
// `fitted` is not null. Returns the fit with `sse` and `level` set.
SesFit RunSes(std::span<const double> y, double alpha, double l0, std::vector<double>* fitted);

}  // namespace almanac::models
