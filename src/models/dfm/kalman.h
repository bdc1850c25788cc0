// Kalman filter and state smoother for the dynamic factor model (models-internal).
//
// Observations are processed one at a time (the univariate treatment of Koopman and Durbin
// 2000), which is exact here because the model has no observation noise (H = 0, diagonal) and
// makes missing values free: a missing entry is simply skipped. The smoother is the
// Durbin-Koopman state smoother (r, N recursions), which never inverts a state covariance;
// the lag-one smoothed covariance follows DK (2012) eq. 4.69.
#pragma once

#include <utility>
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
  // Entry mode (the EM's E step): when `cov_entries` is non-empty, `state_cov` and `lag_cov`
  // are ignored and only these entries are computed: cov_values[t](j) = V_t(cov_entries[j]),
  // lag_values[t](j) = Vlag_t(lag_entries[j]); V holds V_0 only, in full (the next
  // iteration's initial covariance), and Vlag is empty. This skips the m^3 products of the
  // full V_t and Vlag_t that the M step never reads.
  std::vector<std::pair<int, int>> cov_entries;
  std::vector<std::pair<int, int>> lag_entries;
};

struct SmootherResult {
  double loglik = 0;
  Eigen::MatrixXd a;                   // m x n smoothed states
  std::vector<Eigen::MatrixXd> V;      // n smoothed covariances (if requested)
  std::vector<Eigen::MatrixXd> Vlag;   // n-1: Cov(alpha_{t+1}, alpha_t | Y)
  std::vector<Eigen::VectorXd> cov_values;  // entry mode: n vectors
  std::vector<Eigen::VectorXd> lag_values;  // entry mode: n-1 vectors
  bool ok = true;                      // false when a prediction-error variance was not positive
};

// `y` is k x n. Filters and smooths.
SmootherResult Smooth(const StateSpace& ss, const Eigen::MatrixXd& y, const SmootherOptions& options);

// The nonzero entries of one row of Z: a monthly variable touches its factors and its own
// idiosyncratic state (3 of 45 states in the benchmark), so z'a and P z' cost O(nnz), O(m nnz).
struct SparseRow {
  std::vector<int> idx;
  std::vector<double> val;
  double Dot(const Eigen::VectorXd& x) const {
    double s = 0;
    for (size_t q = 0; q < idx.size(); ++q) s += val[q] * x(idx[q]);
    return s;
  }
};
std::vector<SparseRow> SparseRows(const Eigen::MatrixXd& Z);

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
    int t, i;  // time and variable
    double f;
    Eigen::VectorXd M;  // P z'
  };
  const StateSpace& ss_;
  std::vector<SparseRow> rows_;          // the rows of Z
  int n_ = 0;
  std::vector<Obs> obs_;                 // in filtering order
  std::vector<int> first_obs_;           // n + 1 offsets into obs_
  std::vector<Eigen::MatrixXd> P_;       // predicted covariances
  bool ok_ = true;
};

}  // namespace almanac::models::dfm
