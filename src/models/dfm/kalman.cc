#include "models/dfm/kalman.h"

#include <cmath>


namespace almanac::models::dfm {
namespace {

constexpr double kLog2Pi = 1.8378770664093453;  // log(2 pi)
// An observation whose prediction-error variance is below kSkipVariance is already known
// exactly from the state (e.g. at t = 0 under an initial covariance that is the smoothed
// covariance of the previous EM step, singular in the observed directions): it carries no
// information and is skipped, as statsmodels' univariate filter does. Below -kBreakdown the
// covariance has lost positive semi-definiteness: a numerical breakdown.
constexpr double kSkipVariance = 1e-12;
constexpr double kBreakdown = 1e-8;

struct ObsStep {
  int i;
  double v, f;
  Eigen::VectorXd M;  // P z'
};

}  // namespace

SmootherResult Smooth(const StateSpace& ss, const Eigen::MatrixXd& y, const SmootherOptions& options) {
  const int m = static_cast<int>(ss.a0.size());
  const int n = static_cast<int>(y.cols());
  const int k = static_cast<int>(y.rows());
  SmootherResult out;
  std::vector<Eigen::VectorXd> a_pred(static_cast<size_t>(n));
  std::vector<Eigen::MatrixXd> P_pred(static_cast<size_t>(n));
  std::vector<Eigen::MatrixXd> P_filt(options.lag_cov ? static_cast<size_t>(n) : 0);
  std::vector<std::vector<ObsStep>> steps(static_cast<size_t>(n));
  const Eigen::SparseMatrix<double> Tt = ss.T.transpose();

  Eigen::VectorXd a = ss.a0;
  Eigen::MatrixXd P = ss.P0;
  double loglik = 0;
  for (int t = 0; t < n; ++t) {
    a_pred[static_cast<size_t>(t)] = a;
    P_pred[static_cast<size_t>(t)] = P;
    auto& st = steps[static_cast<size_t>(t)];
    for (int i = 0; i < k; ++i) {
      const double yi = y(i, t);
      if (std::isnan(yi)) continue;
      ObsStep s;
      s.i = i;
      s.M.noalias() = P * ss.Z.row(i).transpose();
      s.f = ss.Z.row(i).dot(s.M);
      if (!(s.f > kSkipVariance)) {
        if (!(s.f > -kBreakdown)) out.ok = false;
        continue;
      }
      s.v = yi - ss.Z.row(i).dot(a);
      a.noalias() += s.M * (s.v / s.f);
      P.noalias() -= s.M * (s.M.transpose() / s.f);
      loglik -= 0.5 * (kLog2Pi + std::log(s.f) + s.v * s.v / s.f);
      st.push_back(std::move(s));
    }
    if (options.lag_cov) P_filt[static_cast<size_t>(t)] = P;
    a = ss.T * a;
    Eigen::MatrixXd TP = ss.T * P;
    P.noalias() = (ss.T * TP.transpose()).transpose();
    P += ss.RQR;
    P = 0.5 * (P + P.transpose()).eval();
  }
  out.loglik = loglik;

  out.a.resize(m, n);
  if (options.state_cov) out.V.resize(static_cast<size_t>(n));
  if (options.lag_cov && n > 1) out.Vlag.resize(static_cast<size_t>(n - 1));
  Eigen::VectorXd r = Eigen::VectorXd::Zero(m);
  Eigen::MatrixXd N = Eigen::MatrixXd::Zero(m, m);
  Eigen::MatrixXd N_next;  // N_{t} in DK notation: the N of time t+1 before stepping back
  const bool need_N = options.state_cov || options.lag_cov;
  for (int t = n - 1; t >= 0; --t) {
    const auto& st = steps[static_cast<size_t>(t)];
    for (auto it = st.rbegin(); it != st.rend(); ++it) {
      const auto z = ss.Z.row(it->i).transpose();
      const double Mr = it->M.dot(r);
      r.noalias() += z * ((it->v - Mr) / it->f);
      if (need_N) {
        Eigen::VectorXd u = N * it->M;
        const double Mu = it->M.dot(u);
        N.noalias() -= (z * u.transpose() + u * z.transpose()) / it->f;
        N.noalias() += z * z.transpose() * (Mu / (it->f * it->f) + 1.0 / it->f);
      }
    }
    const auto& Pt = P_pred[static_cast<size_t>(t)];
    out.a.col(t) = a_pred[static_cast<size_t>(t)] + Pt * r;
    if (need_N) {
      Eigen::MatrixXd NP = N * Pt;
      if (options.state_cov) {
        Eigen::MatrixXd V = Pt - Pt * NP;
        out.V[static_cast<size_t>(t)] = 0.5 * (V + V.transpose());
      }
      if (options.lag_cov && t < n - 1) {
        // Cov(alpha_t, alpha_{t+1}) = P_{t|t} T' (I - N_t P_{t+1}); we store its transpose.
        const auto& P1 = P_pred[static_cast<size_t>(t + 1)];
        Eigen::MatrixXd TPf = ss.T * P_filt[static_cast<size_t>(t)];  // T P_{t|t}
        Eigen::MatrixXd left = Eigen::MatrixXd::Identity(m, m) - P1 * N_next;
        out.Vlag[static_cast<size_t>(t)].noalias() = left * TPf;
      }
      N_next = N;
    }
    if (t > 0) {
      r = Tt * r;
      if (need_N) {
        Eigen::MatrixXd NT = N * ss.T;                 // N T
        N.noalias() = Tt * NT;                          // T' N T
        N = 0.5 * (N + N.transpose()).eval();
      }
    }
  }
  return out;
}

LinearSmoother::LinearSmoother(const StateSpace& ss, const Eigen::MatrixXd& pattern) : ss_(ss) {
  n_ = static_cast<int>(pattern.cols());
  const int k = static_cast<int>(pattern.rows());
  Eigen::MatrixXd P = ss.P0;
  first_obs_.reserve(static_cast<size_t>(n_) + 1);
  P_.reserve(static_cast<size_t>(n_));
  for (int t = 0; t < n_; ++t) {
    first_obs_.push_back(static_cast<int>(obs_.size()));
    P_.push_back(P);
    for (int i = 0; i < k; ++i) {
      if (std::isnan(pattern(i, t))) continue;
      Obs o{t, i, 0, P * ss.Z.row(i).transpose()};
      o.f = ss.Z.row(i).dot(o.M);
      if (!(o.f > kSkipVariance)) {
        if (!(o.f > -kBreakdown)) ok_ = false;
        continue;
      }
      P.noalias() -= o.M * (o.M.transpose() / o.f);
      obs_.push_back(std::move(o));
    }
    Eigen::MatrixXd TP = ss.T * P;
    P.noalias() = (ss.T * TP.transpose()).transpose();
    P += ss.RQR;
    P = 0.5 * (P + P.transpose()).eval();
  }
  first_obs_.push_back(static_cast<int>(obs_.size()));
}

Eigen::VectorXd LinearSmoother::StateAt(const Eigen::MatrixXd& y, const Eigen::VectorXd& a0, int t) const {
  // Forward: the predicted mean at t and the innovations from t on.
  Eigen::VectorXd a = a0;
  Eigen::VectorXd a_t;
  std::vector<double> v(obs_.size(), 0.0);
  for (int s = 0; s < n_; ++s) {
    if (s == t) a_t = a;
    for (int j = first_obs_[static_cast<size_t>(s)]; j < first_obs_[static_cast<size_t>(s) + 1]; ++j) {
      const auto& o = obs_[static_cast<size_t>(j)];
      const double vj = y(o.i, s) - ss_.Z.row(o.i).dot(a);
      v[static_cast<size_t>(j)] = vj;
      a.noalias() += o.M * (vj / o.f);
    }
    a = ss_.T * a;
  }
  if (t >= n_) return a_t;  // not reached: callers pass t < n
  // Backward to t.
  Eigen::VectorXd r = Eigen::VectorXd::Zero(a.size());
  const Eigen::SparseMatrix<double> Tt = ss_.T.transpose();
  for (int s = n_ - 1; s >= t; --s) {
    for (int j = first_obs_[static_cast<size_t>(s) + 1] - 1; j >= first_obs_[static_cast<size_t>(s)]; --j) {
      const auto& o = obs_[static_cast<size_t>(j)];
      const double Mr = o.M.dot(r);
      r.noalias() += ss_.Z.row(o.i).transpose() * ((v[static_cast<size_t>(j)] - Mr) / o.f);
    }
    if (s > t) r = Tt * r;
  }
  return a_t + P_[static_cast<size_t>(t)] * r;
}

}  // namespace almanac::models::dfm
