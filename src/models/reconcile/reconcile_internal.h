// The matrices behind almanac/models/reconcile.h (models-internal; the tests check them
// against closed forms).
#pragma once

#include <Eigen/Dense>

#include "almanac/core/status.h"

namespace almanac::models::reconcile {

// G = (S' W^-1 S)^-1 S' W^-1 (bottom x nodes). InvalidArgument when W is not positive definite
// or S' W^-1 S is singular.
Result<Eigen::MatrixXd> GlsG(const Eigen::MatrixXd& s, const Eigen::MatrixXd& w);

// R hts's shrink.estim(): the uncentred covariance x'x / T of the T x nodes residuals x, shrunk
// towards its diagonal with the Schafer-Strimmer (2005) intensity *lambda in [0, 1] estimated
// on the standardised residuals (1 when the sample correlations are all zero).
Eigen::MatrixXd ShrinkCovariance(const Eigen::MatrixXd& x, double* lambda);

}  // namespace almanac::models::reconcile
