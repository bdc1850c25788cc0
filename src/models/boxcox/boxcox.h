// Box-Cox transform and the decorator that wraps any model in it (models-internal).
#pragma once

#include <memory>
#include <span>
#include <vector>

#include "almanac/models.h"

namespace almanac::models {

// True when spec.params has a non-null "lambda".
bool BoxCoxRequested(const Json& params);

// y -> (sign(y)|y|^λ - 1)/λ, or log(y) for λ = 0. NaN stays NaN.
double BoxCox(double y, double lambda);
// The inverse; NaN where the transformed value has no inverse (λ < 0 and x >= -1/λ).
double InvBoxCox(double x, double lambda);
// Guerrero's (1993) method as in R forecast's BoxCox.lambda(method = "guerrero"): minimises
// the coefficient of variation of sd/mean^(1-λ) over blocks of length max(2, period), for λ
// in [lower, upper]. InvalidArgument for non-positive data or fewer than two blocks.
Result<double> GuerreroLambda(std::span<const double> y, int period, double lower = -1, double upper = 2);

Result<std::unique_ptr<Forecaster>> CreateBoxCox(const ModelSpec& spec, const ModelType& inner,
                                                 const ForecasterRegistry& registry);
Result<std::unique_ptr<Forecaster>> LoadBoxCox(const ModelSpec& spec, const Json& state, const ModelType& inner,
                                               const ForecasterRegistry& registry);

}  // namespace almanac::models
