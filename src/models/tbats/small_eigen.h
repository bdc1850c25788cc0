// Eigenvalues of a small dense real matrix (models-internal, for TBATS' admissibility check,
// which runs at every likelihood evaluation): Householder reduction to Hessenberg form, then
// single-shift complex QR with Wilkinson shifts and Givens rotations. Plain loops rather
// than Eigen's EigenSolver, whose expression templates cost ~20x more in unoptimised
// (-O0) test builds; tbats_test.cc checks it against Eigen.
#pragma once

#include <complex>
#include <optional>
#include <vector>

namespace almanac::models::tbats {

// `a` is n x n, row-major. nullopt when the QR iteration does not converge.
std::optional<std::vector<std::complex<double>>> SmallEigenvalues(std::vector<double> a, int n);

}  // namespace almanac::models::tbats
