// Kalman filter and state smoother for the dynamic factor model (models-internal).
//
// Observations are processed one at a time (the univariate treatment of Koopman and Durbin
// 2000), which is exact here because the model has no observation noise (H = 0, diagonal) and
// makes missing values free: a missing entry is simply skipped. The smoother is the
// Durbin-Koopman state smoother (r, N recursions), which never inverts a state covariance;
// the lag-one smoothed covariance follows DK (2012) eq. 4.69.
#pragma once

#include <vector>

#include <Eigen/Dense>
#include <Eigen/SparseCore>

namespace almanac::models::dfm {

// y_t = Z alpha_t (entries NaN = missing), alpha_{t+1} = T alpha_t + eta_t, eta ~ N(0, RQR),
// alpha_0 ~ N(a0, P0).
struct StateSpace {
  Eigen::MatrixXd Z;                   // k x m
  Eigen::SparseMatrix<double> T;       // m x m
  Eigen::MatrixXd RQR;                 // m x m
  Eigen::VectorXd a0;
  Eigen::MatrixXd P0;
};

struct SmootherOptions {
  bool state_cov = true;   // V_t
  bool lag_cov = true;     // Cov(alpha_{t+1}, alpha_t | Y), t = 0..n-2
};

struct SmootherResult {
  double loglik = 0;
  Eigen::MatrixXd a;                   // m x n smoothed states
  std::vector<Eigen::MatrixXd> V;      // n smoothed covariances (if requested)
  std::vector<Eigen::MatrixXd> Vlag;   // n-1: Cov(alpha_{t+1}, alpha_t | Y)
  bool ok = true;                      // false when a prediction-error variance was not positive
};

// `y` is k x n. Filters and smooths.
SmootherResult Smooth(const StateSpace& ss, const Eigen::MatrixXd& y, const SmootherOptions& options);

// The smoothed means only, as a linear map of the data: returns the smoothed states for data
// `y` (same missing pattern as the gains were computed for) — used by the news decomposition
// with unit vectors. Precomputes the gains once.
class LinearSmoother {
 public:
  LinearSmoother(const StateSpace& ss, const Eigen::MatrixXd& pattern);
  // Smoothed state at time `t` for data `y` (NaN where the pattern is missing) and initial
  // mean `a0` (pass zero for the linear part only).
  Eigen::VectorXd StateAt(const Eigen::MatrixXd& y, const Eigen::VectorXd& a0, int t) const;
  bool ok() const { return ok_; }

 private:
  struct Obs {
    int t, i;
    double f;
    Eigen::VectorXd M;  // P z'
  };
  const StateSpace& ss_;
  int n_ = 0;
  std::vector<Obs> obs_;                 // in filtering order
  std::vector<int> first_obs_;           // n + 1 offsets into obs_
  std::vector<Eigen::MatrixXd> P_;       // predicted covariances
  bool ok_ = true;
};

}  // namespace almanac::models::dfm
